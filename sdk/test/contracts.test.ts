/**
 * The SDK's enum lists decode the contracts' uint8 enums by index, so each must list the Solidity enum's
 * members in declaration order (contracts/lib/Types.sol, contracts/dispute/lib/DisputeTypes.sol).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { claimStatuses, deliveryModes, gamePhases, gameSides, gameWinners, requestStatuses } from "../src/index.ts";

const root = resolve(import.meta.dirname, "..", "..");

/** The members of `enum name { ... }` in `file`, comments dropped. */
function solidityEnum(file: string, name: string): string[] {
  const source = readFileSync(join(root, file), "utf8").replace(/\/\/[^\n]*/g, "");
  const body = new RegExp(`enum\\s+${name}\\s*\\{([^}]*)\\}`).exec(source);
  if (!body) throw new Error(`enum ${name} not found in ${file}`);
  return body[1]!.split(",").map((m) => m.trim()).filter((m) => m.length > 0);
}

describe("enum lists", () => {
  it("follow the contracts' declaration order", () => {
    expect(requestStatuses).toEqual(solidityEnum("contracts/lib/Types.sol", "RequestStatus"));
    expect(claimStatuses).toEqual(solidityEnum("contracts/lib/Types.sol", "ClaimStatus"));
    expect(gameWinners).toEqual(solidityEnum("contracts/lib/Types.sol", "GameWinner"));
    expect(deliveryModes).toEqual(solidityEnum("contracts/lib/Types.sol", "DeliveryMode"));
    expect(gamePhases).toEqual(solidityEnum("contracts/dispute/lib/DisputeTypes.sol", "GamePhase"));
    expect(gameSides).toEqual(solidityEnum("contracts/dispute/lib/DisputeTypes.sol", "Side"));
  });

  it("the parser reads members across comments and fails on a missing enum", () => {
    expect(solidityEnum("contracts/lib/Types.sol", "ClaimStatus")).toContain("Queued");
    expect(() => solidityEnum("contracts/lib/Types.sol", "NoSuchEnum")).toThrow(/not found/);
  });
});
