/**
 * Fault injection for tests and demos, chosen per run (issue 5):
 *
 * | fault             | the cheater                                   | lies                                        |
 * |-------------------|-----------------------------------------------|---------------------------------------------|
 * | `graph:N`         | commits (defender)                            | node outputs from node N on; VM lie seeded  |
 * | `vm:N`            | commits (defender)                            | a seeded node; VM states from step N on     |
 * | `false-challenge` | challenges a correct claim (challenger)       | node outputs from a seeded node (`:N` fixes it) |
 * | `silent`          | commits (defender), then stops answering      | a seeded node; posts at most `:N` times (default 0) |
 * | `token:K`         | commits (defender); text-generation models    | token K: its ArgMax node gives the runner-up byte, every later node computed honestly from it (a plausible altered continuation) |
 *
 * The VM lie of a cheater is forced: its side must post VALID (defender) or INVALID (challenger) at
 * T while its own honest run of the guest says the opposite, so it lies from some step on; when
 * the fault does not fix the step, it is drawn from the seed within the guest's real run.
 */
import type { Model } from "../graph/model.ts";
import type { NodeReplacer, RunResult } from "../graph/executor.ts";
import { decodeSlot, Op, SlotKind } from "../graph/ops.ts";
import { int32Tensor, type Tensor } from "../graph/tensor.ts";
import { keccak256 } from "../vm/keccak.ts";
import { graphClaim, type GraphClaim } from "./graph-provider.ts";
import { LyingVmTrace } from "./lying.ts";
import { requiredFinalStatus } from "./solver.ts";
import type { DisputeTraces, VmTraceProvider } from "./trace-provider.ts";
import { GameError, type Hex, Side, type VmInputs } from "./types.ts";
import { claimTraces } from "./vm-provider.ts";

export type FaultKind = "graph" | "vm" | "false-challenge" | "silent" | "token";
export const FAULT_KINDS: readonly FaultKind[] = ["graph", "vm", "false-challenge", "silent", "token"];

export interface Fault {
  kind: FaultKind;
  /** graph: node; vm: step; false-challenge: node; silent: posts before going quiet; token: generated token (0-based). */
  at?: bigint;
}

/** Parses `KIND[:N]`. */
export function parseFault(text: string): Fault {
  const m = /^([a-z-]+)(?::(\d+))?$/.exec(text.trim());
  const kind = m?.[1] as FaultKind | undefined;
  if (m === null || kind === undefined || !FAULT_KINDS.includes(kind)) {
    throw new GameError(`--fault ${JSON.stringify(text)}: expected one of graph:N, vm:N, false-challenge[:N], silent[:N], token:K`);
  }
  const at = m[2] === undefined ? undefined : BigInt(m[2]);
  if ((kind === "graph" || kind === "vm" || kind === "token") && at === undefined) throw new GameError(`--fault ${kind} needs a position: ${kind}:N`);
  return at === undefined ? { kind } : { kind, at };
}

export function formatFault(f: Fault): string {
  return f.at === undefined ? f.kind : `${f.kind}:${f.at}`;
}

/** A deterministic draw in [0, bound) from a seed and a label. */
export function seededDraw(seed: number, label: string, bound: bigint): bigint {
  if (bound <= 0n) throw new GameError(`cannot draw below ${bound}`);
  const h = keccak256(new TextEncoder().encode(`oao-fault/${seed}/${label}`));
  let v = 0n;
  for (const b of h.subarray(0, 8)) v = (v << 8n) | BigInt(b);
  return v % bound;
}

/** Who cheats and how, resolved for a model of `nodeCount` nodes. */
export interface Scenario {
  fault: Fault;
  cheaterSide: Side;
  /** The cheater's claim is wrong from this node on. */
  graphLieFrom: number;
  /** The cheater's VM trace lies from this step on; undefined: drawn from the seed within the real run. */
  vmLieFrom: bigint | undefined;
  /** The cheater stops after this many posts (silent). */
  silentAfterPosts: number | undefined;
  seed: number;
}

/**
 * The node that picks generated token `k` of a text-generation model (the ArgMax read by the Emit node
 * with attribute k, docs/protocol.md §3.6), or an error naming what the model lacks.
 */
export function tokenNode(model: Model, k: number): number {
  const emits = model.nodes.filter((n) => n.op === Op.Emit);
  if (emits.length === 0) throw new GameError(`--fault token:${k}: the model generates no text (it has no Emit node)`);
  const emit = emits.find((n) => n.attrs[0] === k);
  if (emit === undefined) throw new GameError(`--fault token:${k}: the model generates tokens 0..${emits.length - 1}`);
  const src = decodeSlot(emit.inputs[0]!);
  if (src.kind !== SlotKind.node) throw new GameError(`--fault token:${k}: token ${k} is not a node's output`);
  return src.index;
}

/**
 * The token fault's replacement: node `node`'s token becomes the runner-up of the logits row its
 * ArgMax reads (the largest other value, the first on ties), so the cheater's continuation is one the
 * model found plausible.
 */
export function runnerUpToken(model: Model, node: number, nodeOutputs: (k: number) => Tensor | undefined): NodeReplacer {
  return (k, out) => {
    if (k !== node) return undefined;
    const argmax = model.nodes[k - 1]!;
    const src = decodeSlot(argmax.inputs[0]!);
    const row = src.kind === SlotKind.node ? nodeOutputs(src.index) : undefined;
    if (argmax.op !== Op.ArgMax || row === undefined) throw new GameError(`token fault: node ${k} is not an ArgMax over a node's output`);
    const best = Number(out.data[0]);
    let alt = best === 0 ? 1 : 0;
    for (let j = 0; j < row.data.length; j++) if (j !== best && Number(row.data[j]) > Number(row.data[alt])) alt = j;
    return int32Tensor(out.shape, [alt]);
  };
}

export function resolveScenario(fault: Fault, nodeCount: number, seed: number, vmFinalPosition: bigint, model?: Model): Scenario {
  const seededNode = 1 + Number(seededDraw(seed, "node", BigInt(nodeCount)));
  const node = (at: bigint | undefined) => {
    if (at === undefined) return seededNode;
    if (at < 1n || at > BigInt(nodeCount)) throw new GameError(`--fault ${formatFault(fault)}: the model's nodes are 1..${nodeCount}`);
    return Number(at);
  };
  const base = { fault, seed, silentAfterPosts: undefined, vmLieFrom: undefined };
  switch (fault.kind) {
    case "graph":
      return { ...base, cheaterSide: Side.Defender, graphLieFrom: node(fault.at) };
    case "vm":
      if (fault.at! < 1n || fault.at! > vmFinalPosition) {
        throw new GameError(`--fault vm:${fault.at}: a VM lie starts at a step in 1..${vmFinalPosition} (2^vmTraceDepth)`);
      }
      return { ...base, cheaterSide: Side.Defender, graphLieFrom: seededNode, vmLieFrom: fault.at };
    case "false-challenge":
      return { ...base, cheaterSide: Side.Challenger, graphLieFrom: node(fault.at) };
    case "silent":
      return { ...base, cheaterSide: Side.Defender, graphLieFrom: seededNode, silentAfterPosts: Number(fault.at ?? 0n) };
    case "token":
      if (model === undefined) throw new GameError(`--fault token:${fault.at}: needs the model to find the token's node`);
      return { ...base, cheaterSide: Side.Defender, graphLieFrom: tokenNode(model, Number(fault.at)) };
  }
}

export interface PartySetup {
  model: Model;
  input: Tensor;
  /** The native executor's run of the model on the input (the truth). */
  run: RunResult;
  /** oao_node.elf */
  elf: Uint8Array;
  vmFinalPosition: bigint;
  snapshotInterval?: number;
  /** Re-runs the model with some node outputs replaced (the token fault's consistent lie). */
  rerun?: (replace: NodeReplacer) => RunResult;
}

export interface PartyTraces {
  claim: GraphClaim;
  traces: DisputeTraces;
}

/** The honest party: the executor's claim and the guest's honest run. */
export function honestParty(p: PartySetup): PartyTraces {
  const claim = graphClaim(p.run, p.model.weightsRoot);
  return { claim, traces: claimTraces({ ...p, nodeOutputs: claim.nodeOutputs, graph: claim.provider }) };
}

/** The cheater of a scenario: its wrong claim, and a VM trace lying as its side requires. */
export function cheaterParty(p: PartySetup, s: Scenario): PartyTraces {
  let claim: GraphClaim;
  if (s.fault.kind === "token") {
    // One wrong token, the rest of the generation computed honestly from it: the claim is wrong from the token's node on.
    if (p.rerun === undefined) throw new GameError("the token fault needs an executor to recompute the generation after the altered token");
    const lie = p.rerun(runnerUpToken(p.model, s.graphLieFrom, (k) => p.run.nodeOutputs[k - 1]));
    claim = graphClaim(lie, p.model.weightsRoot);
  } else claim = graphClaim(p.run, p.model.weightsRoot, { wrongFrom: s.graphLieFrom, salt: s.seed });
  const real = claimTraces({ ...p, nodeOutputs: claim.nodeOutputs, graph: claim.provider });
  const cache = new Map<string, VmTraceProvider>();
  const vm = (inputs: VmInputs, gameAddress: Hex): VmTraceProvider => {
    const key = [inputs.nodeIndex, inputs.preState, inputs.postState, inputs.localContext, gameAddress].join("/");
    let t = cache.get(key);
    if (t === undefined) {
      const truth = real.guest(inputs, gameAddress);
      let from = s.vmLieFrom;
      if (from === undefined) {
        // Somewhere in the real run (its exit step included), never at the agreed step 0.
        const steps = BigInt(truth.run(p.vmFinalPosition).steps);
        from = 1n + seededDraw(s.seed, "vm-step", steps < 1n ? 1n : steps);
      }
      t = new LyingVmTrace(truth, from, p.vmFinalPosition, requiredFinalStatus(s.cheaterSide), `cheater-${s.seed}`);
      cache.set(key, t);
    }
    return t;
  };
  return { claim, traces: { graph: claim.provider, vm } };
}
