/** `oao demo` and `oao dispute simulate` as a user runs them: a child process, JSON on the last line, the story on stderr. */
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeText } from "../../sdk/src/text.ts";
import { encodeTensor } from "../../keeper/graph/index.ts";
import { tokenNode } from "../../keeper/game/faults.ts";
import { decodeRequestInput } from "../../keeper/src/service/inference.ts";
import { executorFor, loadModelFile } from "../../keeper/src/service/models.ts";
import { DEFAULT_PROMPT, TEXT_MODEL_FILE } from "../../keeper/src/cli/demo.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** Runs the CLI; throws with its stderr when it fails. */
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [`${root}bin/oao.js`, ...args], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`oao ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { json: JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, unknown>, story: r.stderr };
};
const oao = (...args: string[]) => run(...args).json;

/** Lines of `story` matching each pattern (a string: containing it), in this order (each after the previous). */
function expectInOrder(story: string, patterns: (RegExp | string)[]): void {
  const lines = story.split("\n");
  let at = -1;
  for (const p of patterns) {
    const i = lines.findIndex((l, j) => j > at && (typeof p === "string" ? l.includes(p) : p.test(l)));
    expect(i, `no line matching ${p} after line ${at}: ${lines[at] ?? "(start)"}`).toBeGreaterThan(at);
    at = i;
  }
}

/** The honest text of the shipped generation model for a prompt: the executor's output up to its first 0x00. */
function honestText(prompt: string): string {
  const model = loadModelFile(TEXT_MODEL_FILE);
  return decodeText(encodeTensor(executorFor(model).run(decodeRequestInput(model, new TextEncoder().encode(prompt))).output));
}

interface GameJson {
  node: number;
  nodeName: string | null;
  step: string | null;
  instruction: string | null;
  lostOnTime: boolean;
  winner: string | null;
}

describe("oao demo (the text model)", () => {
  it("a cheater's altered continuation is challenged, disputed down to its token's ArgMax and one instruction, slashed; the consumer stores the honest text", () => {
    const { json: r, story } = run("demo", "--json");
    const want = honestText(DEFAULT_PROMPT);
    expect(r).toMatchObject({ model: "text", prompt: DEFAULT_PROMPT, honestText: want, delivered: want, correct: true, winner: "honest", stakeToken: "MSTK", disputes: 1 });
    expect(BigInt(r.cheaterSlashed as string)).toBeGreaterThan(0n);
    // the cheater's text differs from the first altered token on; the consumer got it at commit, then the honest text
    const fault = /^token:(\d+)$/.exec(r.fault as string);
    expect(fault, `fault ${r.fault}`).not.toBeNull();
    const k = Number(fault![1]);
    expect(r.cheaterText).not.toBe(want);
    expect(r.firstDifference).toBe(k);
    expect(r.callbacks).toEqual([r.cheaterText, want]);
    const [game] = r.games as GameJson[];
    expect(game!.node).toBe(tokenNode(loadModelFile(TEXT_MODEL_FILE), k));
    expect(game!.nodeName).toContain(`token ${k}'s choice (ArgMax), step ${k} of the`);
    expect(game!.instruction).toMatch(/^[a-z0-9]+$/);
    expect(BigInt(game!.step!)).toBeGreaterThan(0n);
    expect(game!.lostOnTime).toBe(false);
    expect(game!.winner).toBe("honest");
    expect(r).toMatchObject({ node: game!.node, nodeName: game!.nodeName, step: game!.step, instruction: game!.instruction, lostOnTime: false });
    expect(r.vmRounds as number).toBeGreaterThan(0);
    // the story, in the order it happens
    expectInOrder(story, [
      /Registered model \d+: .*a text model/,
      /staked [\d.]+ MSTK each \(MSTK is the stake token/,
      /▸ Prompt \(\d+ bytes\): "And God said unto Moses,"/,
      /^ {2}cheater claims: "/,
      /^ {2}honest text: {4}"/,
      new RegExp(`\\^ first difference: byte ${k} `),
      /challenged the cheater's claim/,
      /▸ Phase 2, graph bisection/,
      new RegExp(`narrowed to one node: node ${game!.node} of \\d+: token ${k}'s choice \\(ArgMax\\), step ${k} of the`),
      /▸ Phase 1, VM bisection/,
      /narrowed to one MIPS instruction: step \d+ → \d+/,
      new RegExp(`came down to MIPS step ${game!.step} of the guest's run of the node, the \`${game!.instruction}\` instruction at pc 0x[0-9a-f]{8}`),
      /▸ Slashed: the cheater \(0x[0-9a-fA-F]{40}\) lost [\d.]+ MSTK of its stake/,
      /▸ The chain's clock was moved \d+ s ahead .*challenge window/,
      /OAOPromptConsumer stores, read back with getAIResult/,
      `${JSON.stringify(DEFAULT_PROMPT)} → ${JSON.stringify(want)}`,
    ]);
  });

  it("a silent cheater loses on time: the story says the clock jumped and why", () => {
    const { json: r, story } = run("demo", "--fault", "silent", "--json");
    expect(r).toMatchObject({ winner: "honest", correct: true, delivered: honestText(DEFAULT_PROMPT) });
    expect((r.games as GameJson[])[0]).toMatchObject({ lostOnTime: true, winner: "honest" });
    expect(r.lostOnTime).toBe(true);
    expectInOrder(story, [
      /challenged the cheater's claim/,
      /The chain's clock was moved \d+ s ahead .*the cheater has gone silent/,
      /▸ The cheater lost game 0x[0-9a-fA-F]{8}… on time: .*claimTimeout/,
      /▸ Slashed: the cheater/,
    ]);
  });

  it("refuses a prompt longer than the model's context, saying by how much", () => {
    const model = loadModelFile(TEXT_MODEL_FILE);
    const c = model.input.shape[0]!;
    expect(() => run("demo", "--prompt", "x".repeat(c + 1))).toThrow(`--prompt is ${c + 1} bytes of UTF-8 but the text model's context is ${c} bytes: shorten it to at most ${c} bytes`);
    expect(() => run("demo", "--digits", "2")).toThrow("--digits is for --model mnist");
    expect(() => run("demo", "--model", "gpt")).toThrow("--model gpt: expected text (the language model, default) or mnist (the digit classifier)");
  });
});

describe("oao demo --model mnist", () => {
  it("delivers the right digits after the cheater is challenged, disputed and slashed", () => {
    const { json: r, story } = run("demo", "--model", "mnist", "--json", "--digits", "2");
    expect(r.correct).toBe(true);
    expect(r.delivered).toEqual(r.expected);
    expect(r.winner).toBe("honest");
    expect(BigInt(r.cheaterSlashed as string)).toBeGreaterThan(0n);
    expect(r.disputes).toBe(2);
    expect(r.transactions as number).toBeGreaterThan(10);
    expect((r.claimed as unknown[]).length).toBe(2);
    for (const g of r.games as GameJson[]) {
      expect(g.nodeName).toBe(`node ${g.node} of 3 (Gemm)`); // graph:2 lies from node 2, a Gemm
      expect(g.instruction).toMatch(/^[a-z0-9]+$/);
      expect(g.winner).toBe("honest");
    }
    expectInOrder(story, [
      /the cheating keeper committed first, claiming the digit is \d/,
      /cheater's scores: \[/,
      /honest scores: {4}\[/,
      /▸ Phase 2, graph bisection/,
      /narrowed to one node: node 2 of 3 \(Gemm\)/,
      /▸ Phase 1, VM bisection/,
      /came down to MIPS step \d+ .* instruction at pc/,
      /▸ Slashed: the cheater .* MSTK/,
      /The chain's clock was moved/,
    ]);
  });

  it("simulates a dispute on chain from the CLI", () => {
    const r = oao("dispute", "simulate", "--model", "mnist", "--fault", "vm:5", "--json");
    expect(r).toMatchObject({ mode: "chain", winner: "honest", fault: "vm:5" });
    expect(BigInt(r.gasUsed as string)).toBeGreaterThan(0n);
  });

  it("explains a bad option instead of crashing", () => {
    expect(() => oao("demo", "--model", "mnist", "--digits", "0")).toThrow(/--digits 0: expected 1..20/);
    expect(() => oao("demo", "--model", "mnist", "--prompt", "hi")).toThrow("--prompt is for the text model");
    expect(() => oao("demo", "--model", "mnist", "--fault", "token:3")).toThrow("token:K alters a generated token; --model mnist generates none");
  });
});
