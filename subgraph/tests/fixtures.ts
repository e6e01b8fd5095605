// Shared steps of the mapping tests: a registered model and a request, as AIOracle emits them.
import { Bytes, ethereum } from "@graphprotocol/graph-ts";
import { AICallbackRequest, ModelRegistered, RequestCreated } from "../generated/AIOracle/AIOracle";
import { handleAICallbackRequest, handleModelRegistered, handleRequestCreated } from "../src/oracle";
import { addr, address, bytes32, dyn, fixed, mockEvent, uint } from "./events";

export const OWNER = address(0x0e);
export const REQUESTER = address(0x11);
export const CONSUMER = address(0xc0);
export const OPERATOR = address(0x22);

export function registerModel(modelId: i32, fee: i64, timestamp: i64): void {
  handleModelRegistered(
    changetype<ModelRegistered>(
      mockEvent(
        [uint(modelId), addr(OWNER), fixed(bytes32(0xaa)), fixed(bytes32(0xbb)), uint(6), uint(fee), addr(OWNER), uint(2500), ethereum.Value.fromString("ipfs://model")],
        timestamp,
        1,
        0,
      ),
    ),
  );
}

/** A request as AIOracle emits it: AICallbackRequest then RequestCreated in one transaction. */
export function makeRequest(requestId: i32, modelId: i32, timestamp: i64, tx: i32): void {
  handleAICallbackRequest(
    changetype<AICallbackRequest>(
      mockEvent(
        [addr(REQUESTER), uint(requestId), uint(modelId), dyn(Bytes.fromHexString("0x0102")), addr(CONSUMER), uint(200000), dyn(Bytes.fromHexString("0xcafe"))],
        timestamp,
        tx,
        0,
      ),
    ),
  );
  handleRequestCreated(
    changetype<RequestCreated>(
      mockEvent(
        [uint(requestId), addr(REQUESTER), uint(modelId), fixed(bytes32(0x12)), uint(1), uint(timestamp + 3600), uint(1000), uint(200), uint(30)],
        timestamp,
        tx,
        1,
      ),
    ),
  );
}

