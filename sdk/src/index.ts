export * from "./errors/index.ts";
export {
  ContractRevertError,
  type ContractRevertErrorType,
  type OaoErrorArgs,
  type OaoErrorName,
  UnknownRevertError,
  type UnknownRevertErrorType,
  isContractRevertError,
  toOaoError,
} from "./errors/contract.ts";
export {
  SubgraphRequestError,
  type SubgraphRequestErrorType,
  SubgraphResponseError,
  type SubgraphResponseErrorType,
  SubgraphStaleError,
  type SubgraphStaleErrorType,
} from "./errors/subgraph.ts";
export {
  type ClaimStatus,
  type DeliveryMode,
  type GamePhase,
  type GameSide,
  type GameWinner,
  type RequestStatus,
  claimStatuses,
  deliveryModes,
  gamePhases,
  gameSides,
  gameWinners,
  requestStatuses,
} from "./contracts.ts";
export { type ModelDescriptor, decodeModelDescriptor, modelDescriptorFromFile } from "./model.ts";
export { decodeText, encodePrompt } from "./text.ts";
export { type ModelQuantization, type TensorQuantization, decodeOutput, encodeInput, modelQuantizationFromFile } from "./quant.ts";
export { type QuantParams, dequantizeReal, quantizeReal } from "./rounding.ts";
export * from "./actions/estimateFee.ts";
export * from "./actions/expireRequest.ts";
export * from "./actions/getDispute.ts";
export * from "./actions/getOperator.ts";
export * from "./actions/getRequest.ts";
export * from "./actions/registerModel.ts";
export * from "./actions/requestBatch.ts";
export * from "./actions/requestInference.ts";
export * from "./actions/requestUnstake.ts";
export * from "./actions/stake.ts";
export * from "./actions/waitForResult.ts";
export * from "./actions/watchRequests.ts";
export * from "./actions/withdraw.ts";
export * from "./actions/withdrawCredit.ts";
export { type OaoActions, type OaoAddresses, oaoActions } from "./decorator.ts";
export { version } from "./version.ts";
