import type { Account, Address, Chain, Client, Transport } from "viem";
import { type EstimateFeeParameters, estimateFee } from "./actions/estimateFee.ts";
import { type ExpireRequestParameters, expireRequest } from "./actions/expireRequest.ts";
import { type GetDisputeParameters, getDispute } from "./actions/getDispute.ts";
import { type GetOperatorParameters, getOperator } from "./actions/getOperator.ts";
import { type GetRequestParameters, getRequest } from "./actions/getRequest.ts";
import { type RegisterModelParameters, registerModel } from "./actions/registerModel.ts";
import { type RequestBatchParameters, requestBatch } from "./actions/requestBatch.ts";
import { type RequestInferenceParameters, type RequestTextParameters, requestInference, requestText } from "./actions/requestInference.ts";
import { type RequestUnstakeParameters, requestUnstake } from "./actions/requestUnstake.ts";
import { type StakeParameters, stake } from "./actions/stake.ts";
import { type WaitForResultParameters, waitForResult } from "./actions/waitForResult.ts";
import { type WatchRequestsParameters, watchRequests } from "./actions/watchRequests.ts";
import { type WithdrawParameters, withdraw } from "./actions/withdraw.ts";
import { type WithdrawCreditParameters, withdrawCredit } from "./actions/withdrawCredit.ts";
import { MissingAddressError } from "./errors/parameters.ts";

/** Deployed contract addresses of one chain. */
export interface OaoAddresses {
  /** The AIOracle (also the model registry). */
  oracle: Address;
  /** The Staking contract (for stake, requestUnstake, withdraw, getOperator). */
  staking?: Address;
  /** The TaskManager (for expireRequest). */
  taskManager?: Address;
}

/** Parameters of an action with the contract address made optional (the decorator fills it); distributes over unions. */
type WithAddress<T extends { address: Address }> = T extends unknown ? Omit<T, "address"> & { address?: Address } : never;

// A type alias (not an interface) so that viem's `extend` accepts it.
export type OaoActions = {
  estimateFee: (p: WithAddress<EstimateFeeParameters>) => ReturnType<typeof estimateFee>;
  requestInference: (p: WithAddress<RequestInferenceParameters>) => ReturnType<typeof requestInference>;
  /** A text model's request: the prompt's UTF-8 bytes (1..C checked first). */
  requestText: (p: WithAddress<RequestTextParameters>) => ReturnType<typeof requestText>;
  requestBatch: (p: WithAddress<RequestBatchParameters>) => ReturnType<typeof requestBatch>;
  getRequest: (p: WithAddress<GetRequestParameters>) => ReturnType<typeof getRequest>;
  waitForResult: (p: WithAddress<WaitForResultParameters>) => ReturnType<typeof waitForResult>;
  registerModel: (p: WithAddress<RegisterModelParameters>) => ReturnType<typeof registerModel>;
  watchRequests: (p: WithAddress<WatchRequestsParameters>) => ReturnType<typeof watchRequests>;
  stake: (p: WithAddress<StakeParameters>) => ReturnType<typeof stake>;
  requestUnstake: (p: WithAddress<RequestUnstakeParameters>) => ReturnType<typeof requestUnstake>;
  withdraw: (p: WithAddress<WithdrawParameters>) => ReturnType<typeof withdraw>;
  /** The oracle's `withdraw(to)`: refunds that could not be pushed, fees earned. */
  withdrawCredit: (p: WithAddress<WithdrawCreditParameters>) => ReturnType<typeof withdrawCredit>;
  /** `address` defaults to `addresses.taskManager`. */
  expireRequest: (p: WithAddress<ExpireRequestParameters>) => ReturnType<typeof expireRequest>;
  getOperator: (p: WithAddress<GetOperatorParameters>) => ReturnType<typeof getOperator>;
  /** `address` is the game's (every game is its own contract). */
  getDispute: (p: GetDisputeParameters) => ReturnType<typeof getDispute>;
};

/**
 * `client.extend(oaoActions({ addresses }))`: the actions bound to a client and the deployment's
 * addresses. A convenience only; every action is also a plain `(client, params)` function.
 */
export function oaoActions({ addresses }: { addresses: OaoAddresses }) {
  const staking = (address: Address | undefined): Address => {
    const a = address ?? addresses.staking;
    if (!a) throw new MissingAddressError({ contract: "staking" });
    return a;
  };
  const taskManager = (address: Address | undefined): Address => {
    const a = address ?? addresses.taskManager;
    if (!a) throw new MissingAddressError({ contract: "taskManager" });
    return a;
  };
  return <TChain extends Chain | undefined, TAccount extends Account | undefined>(
    client: Client<Transport, TChain, TAccount>,
  ): OaoActions => {
    const c = client as Client<Transport, Chain | undefined, Account | undefined>;
    const oracle = (a: Address | undefined) => a ?? addresses.oracle;
    return {
      estimateFee: async (p) => estimateFee(c, { ...p, address: oracle(p.address) }),
      requestInference: async (p) => requestInference(c, { ...p, address: oracle(p.address) }),
      requestText: async (p) => requestText(c, { ...p, address: oracle(p.address) }),
      requestBatch: async (p) => requestBatch(c, { ...p, address: oracle(p.address) }),
      getRequest: async (p) => getRequest(c, { ...p, address: oracle(p.address) }),
      waitForResult: async (p) => waitForResult(c, { ...p, address: oracle(p.address) }),
      registerModel: async (p) => registerModel(c, { ...p, address: oracle(p.address) }),
      watchRequests: (p) => watchRequests(c, { ...p, address: oracle(p.address) }),
      stake: async (p) => stake(c, { ...p, address: staking(p.address) }),
      requestUnstake: async (p) => requestUnstake(c, { ...p, address: staking(p.address) }),
      withdraw: async (p) => withdraw(c, { ...p, address: staking(p.address) }),
      withdrawCredit: async (p) => withdrawCredit(c, { ...p, address: oracle(p.address) }),
      expireRequest: async (p) => expireRequest(c, { ...p, address: taskManager(p.address) }),
      getOperator: async (p) => getOperator(c, { ...p, address: staking(p.address) }),
      getDispute: async (p) => getDispute(c, p),
    };
  };
}
