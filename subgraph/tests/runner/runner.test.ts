import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runTestFile, succeeded, subgraphDir, type FileResult } from "./run.ts";

const fixtures = join(subgraphDir, "tests", "runner", "fixtures");

describe("offline matchstick runner", () => {
  let result: FileResult;
  beforeAll(async () => {
    result = await runTestFile(join(fixtures, "runner.fixture.ts"), { schema: join(fixtures, "schema.graphql") });
  });

  it("runs every registered test, in describe scopes too", () => {
    expect(result.errors).toEqual([]);
    expect(result.results.map((r) => r.name)).toHaveLength(13);
    expect(result.results.at(-1)?.name).toBe("scope > pass: hooks run outer before inner");
  });

  it("reports each test's real outcome: failing assertions and store violations fail", () => {
    for (const r of result.results) {
      expect({ name: r.name, passed: r.passed }).toEqual({ name: r.name, passed: r.name.startsWith("pass:") || r.name.startsWith("scope > pass:") });
    }
    const byName = (n: string) => result.results.find((r) => r.name === n)!;
    expect(byName("fail: fieldEquals with a wrong value").error).toMatch(/expected "8", got "7"/);
    expect(byName("fail: missing non-null field is rejected by the store").error).toMatch(/non-nullable field `n`/);
    expect(byName("fail: immutable entity cannot be updated").error).toMatch(/immutable/);
    expect(byName("fail: wrong value kind is rejected by the store").error).toMatch(/is String, expected BigInt/);
    expect(byName("fail: log.critical fails the test").error).toMatch(/boom now/);
  });

  it("a file with a failing test does not succeed", () => {
    expect(succeeded(result)).toBe(false);
  });
});
