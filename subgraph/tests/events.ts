// Builders of mock events for the mapping tests (matchstick-as style, so `graph test` runs them too).
import { Address, BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";
import { newMockEvent } from "matchstick-as/assembly/index";

export function address(n: i32): Address {
  return Address.fromString("0x" + n.toString(16).padStart(40, "0"));
}

export function bytes32(n: i32): Bytes {
  return Bytes.fromHexString("0x" + n.toString(16).padStart(64, "0"));
}

export function uint(n: i64): ethereum.Value {
  return ethereum.Value.fromUnsignedBigInt(BigInt.fromI64(n));
}

export function addr(a: Address): ethereum.Value {
  return ethereum.Value.fromAddress(a);
}

export function fixed(b: Bytes): ethereum.Value {
  return ethereum.Value.fromFixedBytes(b);
}

export function dyn(b: Bytes): ethereum.Value {
  return ethereum.Value.fromBytes(b);
}

export function flag(v: bool): ethereum.Value {
  return ethereum.Value.fromBoolean(v);
}

/** The sender of every mock transaction (tx.from): the user behind the consumer contract. */
export const TX_FROM = Address.fromString("0x00000000000000000000000000000000000000e0");

/**
 * A mock event with `params`, emitted at `timestamp` in transaction `tx` (tx hashes and log
 * indexes make event entity ids, so each event in a test gets its own `logIndex`).
 */
export function mockEvent(params: ethereum.Value[], timestamp: i64, tx: i32, logIndex: i32): ethereum.Event {
  let event = newMockEvent();
  event.address = address(0xa1);
  event.block.timestamp = BigInt.fromI64(timestamp);
  event.block.number = BigInt.fromI64(timestamp / 12);
  event.transaction.hash = bytes32(tx);
  event.transaction.from = TX_FROM;
  event.logIndex = BigInt.fromI32(logIndex);
  event.parameters = new Array();
  for (let i = 0; i < params.length; i++) {
    event.parameters.push(new ethereum.EventParam("p" + i.toString(), params[i]));
  }
  return event;
}
