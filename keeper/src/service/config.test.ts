import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKeeperConfig, loadSigningKey, parseKeeperConfig } from "./config.ts";
import { ConfigError } from "../errors.ts";

const valid = {
  rpcUrl: "http://127.0.0.1:8545",
  contracts: {
    aiOracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    taskManager: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    staking: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  },
};

describe("keeper config", () => {
  it("applies defaults", () => {
    const c = parseKeeperConfig(valid);
    expect(c.confirmations).toBe(1);
    expect(c.http.port).toBe(9464);
    expect(c.maxQueue).toBe(1000);
    expect(c.deadlineMarginSeconds).toBe(300);
    expect(c.computeThreads).toBe(1);
  });

  it("validates deadlineMarginSeconds", () => {
    expect(parseKeeperConfig({ ...valid, deadlineMarginSeconds: 0 }).deadlineMarginSeconds).toBe(0);
    expect(() => parseKeeperConfig({ ...valid, deadlineMarginSeconds: -5 }, "keeper.json")).toThrow(/keeper\.json: deadlineMarginSeconds: must be 0 \(only overdue requests\) or more seconds/);
    expect(() => parseKeeperConfig({ ...valid, deadlineMarginSeconds: 1e6 })).toThrow(/deadlineMarginSeconds: must be at most 86400/);
    expect(() => parseKeeperConfig({ ...valid, deadlineMarginSeconds: "300" })).toThrow(/deadlineMarginSeconds/);
  });

  it("takes computeThreads 0 (in-thread) and refuses a negative or fractional count", () => {
    expect(parseKeeperConfig({ ...valid, computeThreads: 0 }).computeThreads).toBe(0);
    expect(() => parseKeeperConfig({ ...valid, computeThreads: -1 })).toThrow(/computeThreads/);
    expect(() => parseKeeperConfig({ ...valid, computeThreads: 1.5 })).toThrow(/computeThreads/);
  });

  it("throughput settings: defaults, and bad values named", () => {
    const c = parseKeeperConfig(valid);
    expect(c.txWindow).toBe(64);
    expect(c.peers).toEqual([]);
    expect(c.commitBackoffBlocks).toBe(3);
    expect(c.finalizeGasPerTx).toBe(8_000_000);
    const peer = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    expect(parseKeeperConfig({ ...valid, peers: [peer], commitBackoffBlocks: 5 }).peers).toEqual([peer]);
    expect(() => parseKeeperConfig({ ...valid, peers: ["0x12"], commitBackoffBlocks: -1, finalizeGasPerTx: 100 }, "k.json")).toThrow(
      /k\.json: peers\.0: must be a 0x-prefixed 20-byte hex address[\s\S]*commitBackoffBlocks[\s\S]*finalizeGasPerTx: must be at least 500000/,
    );
  });

  it("names every bad field and what to fix", () => {
    const bad = { ...valid, rpcUrl: "localhost", contracts: { ...valid.contracts, staking: "0x12" }, confirmations: -1, extra: 1 };
    try {
      parseKeeperConfig(bad, "keeper.json");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain("keeper.json: rpcUrl: must be an http(s) or ws(s) URL");
      expect(message).toContain("contracts.staking: must be a 0x-prefixed 20-byte hex address");
      expect(message).toContain("confirmations");
      expect(message).toContain("extra");
    }
  });

  it("reads a file, overrides from env and resolves dataDir next to the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-config-"));
    const file = join(dir, "keeper.json");
    writeFileSync(file, JSON.stringify({ ...valid, dataDir: "data" }));
    const c = loadKeeperConfig(file, { OAO_RPC_URL: "http://10.0.0.1:8545", OAO_HTTP_PORT: "9000" });
    expect(c.rpcUrl).toBe("http://10.0.0.1:8545");
    expect(c.http.port).toBe(9000);
    expect(c.dataDir).toBe(join(dir, "data"));
  });

  it("explains unreadable and non-JSON files", () => {
    const dir = mkdtempSync(join(tmpdir(), "oao-config-"));
    expect(() => loadKeeperConfig(join(dir, "missing.json"), {})).toThrow(/Cannot read keeper config file/);
    writeFileSync(join(dir, "bad.json"), "{ nope");
    expect(() => loadKeeperConfig(join(dir, "bad.json"), {})).toThrow(/not valid JSON/);
  });

  it("loads a key from env or file and never echoes a malformed one", () => {
    const key = `0x${"ab".repeat(32)}`;
    expect(loadSigningKey({ OAO_PRIVATE_KEY: key })).toBe(key);
    const dir = mkdtempSync(join(tmpdir(), "oao-key-"));
    writeFileSync(join(dir, "key"), `${key}\n`);
    expect(loadSigningKey({ OAO_PRIVATE_KEY_FILE: join(dir, "key") })).toBe(key);
    const secret = `0x${"cd".repeat(31)}`;
    try {
      loadSigningKey({ OAO_PRIVATE_KEY: secret });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
    expect(() => loadSigningKey({})).toThrow(/No operator key/);
  });
});
