// `@oao/sdk/abis`: the contracts' `as const` ABIs and the union of their custom errors.
export {
  aiOracleAbi,
  callbackReceiverAbi,
  disputeGameAbi,
  oaoErrorsAbi,
  stakingAbi,
  taskManagerAbi,
} from "./contracts.ts";
