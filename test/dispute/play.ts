/**
 * Plays a whole dispute on chain between an honest party and a cheater, with real commitments: phase 2
 * over the MNIST graph trace (keeper/graph), the bound transition, phase 1 over the guest's VM trace
 * (keeper/vm running keeper/guest/build/oao_node.elf on the preimages of keeper/graph/preimages.ts), and
 * the final `step` with a real witness. Records the gas of every transaction by kind.
 */
import { type Address, type Hex, getAddress, keccak256, toBytes, concat } from "viem";
import { Executor } from "../../keeper/graph/executor.ts";
import { encodeTensor, tensorHash, type Tensor } from "../../keeper/graph/tensor.ts";
import { buildTrace, claimProof, traceProof, type Trace as GraphTrace } from "../../keeper/graph/state.ts";
import { nodeCheck } from "../../keeper/graph/preimages.ts";
import { quantizeInput } from "../../keeper/graph/quant.ts";
import { loadMnist as loadDigits } from "../../keeper/graph/train/mnist-data.ts";
import { toHex as graphHex } from "../../keeper/graph/hash.ts";
import { Trace as VmTrace, traceWitnesses, type PreimageSource, type StepWitness } from "../../keeper/vm/index.ts";
import { GUEST_ELF, Phase, Side, hx, proofArg, type Protocol } from "./chain.ts";
import { readStandingOpening } from "../../keeper/src/service/claims.ts";

export interface Claimant {
  wallet: Protocol["wallets"]["alice"];
  output: Uint8Array;
  trace: GraphTrace;
  honest: boolean;
}

export type Gas = Record<string, bigint[]>;

/** The honest run of MNIST on test digit `sample`, and a cheater's trace wrong from node `faultNode` on. */
export function mnistClaims(p: Protocol, sample: number, faultNode: number) {
  const exec = new Executor(p.model);
  const input = quantizeInput(p.model, Array.from(loadDigits().test[sample]!.pixels));
  const run = exec.run(input);
  const n = p.model.nodes.length;
  if (faultNode < 1 || faultNode > n) throw new RangeError(`fault node ${faultNode} outside 1..${n}`);
  const tampered: Tensor[] = run.nodeOutputs.map((t, i) => {
    if (i + 1 < faultNode) return t;
    const data = t.data.slice() as typeof t.data;
    data[0] = data[0] === 5 ? 6 : 5;
    return { ...t, data } as Tensor;
  });
  const cheatTrace = buildTrace(run.inputHash, p.model.weightsRoot, tampered.map(tensorHash));
  return {
    input,
    inputBytes: encodeTensor(input),
    run,
    honest: { output: encodeTensor(run.output), trace: run.trace },
    cheat: { output: encodeTensor(tampered[n - 1]!), trace: cheatTrace },
  };
}

export async function postClaim(p: Protocol, kind: "commit" | "challenge", requestId: bigint, c: Claimant, gas: Gas) {
  const args = [requestId, hx(c.output), proofArg(claimProof(c.trace))] as const;
  const hash =
    kind === "commit"
      ? await p.tm.write.commit(args, { account: c.wallet.account })
      : await p.tm.write.challenge([...args, await readStandingOpening(p.publicClient, p.tm.address, requestId)], { account: c.wallet.account });
  const r = await p.wait(hash);
  (gas[kind] ??= []).push(r.gasUsed);
  return r;
}

export function gameAt(p: Protocol, address: Address) {
  return p.viem.getContractAt("DisputeGame", address);
}

export type Game = Awaited<ReturnType<typeof gameAt>>;

async function send(p: Protocol, gas: Gas, kind: string, hash: Promise<Hex>) {
  const r = await p.wait(await hash);
  (gas[kind] ??= []).push(r.gasUsed);
  return r;
}

/** Phase 2: each side posts its trace's states at the round's points, with proofs, until the phase ends. */
export async function playGraph(p: Protocol, game: Game, sides: [Claimant, Claimant], gas: Gas): Promise<number> {
  let rounds = 0;
  while ((await game.read.phase()) === Phase.Graph) {
    const points = (await game.read.roundPoints()).map(Number);
    for (const c of sides) {
      const states = points.map((pt) => hx(c.trace.states[pt]!));
      const proofs = points.map((pt) => traceProof(c.trace, pt).map(hx));
      await send(p, gas, "moveGraph", game.write.moveGraph([states, proofs], { account: c.wallet.account }));
    }
    rounds++;
  }
  return rounds;
}

/** The VM trace of the node check the game bound, from the honest node outputs and the bound post-state. */
export function vmTraceFor(p: Protocol, game: Address, claims: { input: Tensor; run: { nodeOutputs: readonly Tensor[] } }, nodeIndex: number, postState: Uint8Array, localContext: Hex) {
  const check = nodeCheck(p.model, claims.input, claims.run.nodeOutputs, nodeIndex, postState);
  const source: PreimageSource = {
    getPreimage(key: Uint8Array) {
      if (key[0] === 1) {
        const v = check.locals.get(key[31]!);
        if (v === undefined) throw new Error(`no local datum ${key[31]}`);
        return v;
      }
      const v = check.preimages.get(key);
      if (v === undefined) throw new Error(`no preimage for ${graphHex(key)}`);
      return v;
    },
  };
  const trace = VmTrace.fromElf(GUEST_ELF, { preimages: source, snapshotInterval: 1 << 15, localContext: { caller: getAddress(game), localContext } });
  return { check, source, trace };
}

/** The first step of the guest's honest run that reads a preimage part of key type `keyType` (1 local, 2 keccak). */
export function firstPreimageRead(source: PreimageSource, keyType: number, limit = 200_000): number {
  for (const w of traceWitnesses(GUEST_ELF, source, { to: limit })) {
    if (w.preimage !== undefined && w.preimage.key[0] === keyType) return w.step;
  }
  throw new Error(`no read of a type-${keyType} preimage in the first ${limit} steps`);
}

/** A lie at VM position `pos` carrying `status` in its top byte. */
function lie(pos: number, status: number): Hex {
  const h = toBytes(keccak256(concat([toBytes("lie"), toBytes(BigInt(pos), { size: 32 })])));
  h[0] = status;
  return hx(h);
}

/**
 * Phase 1: the honest side posts its trace's hashes; the cheater posts the honest ones before `lieFrom` and
 * lies from there (its final hash carries the status it needs). Returns the rounds played.
 */
export async function playVm(
  p: Protocol,
  game: Game,
  sides: [Claimant, Claimant],
  vm: VmTrace,
  lieFrom: number,
  gas: Gas,
): Promise<number> {
  const [, hi] = await game.read.range();
  const valueAt = (side: number, pos: number): Hex => {
    const c = sides[side]!;
    if (c.honest || pos < lieFrom) return vm.stateHashAt(pos);
    return lie(pos, pos === Number(hi) ? side : 3);
  };
  for (const side of [Side.Defender, Side.Challenger]) {
    await send(p, gas, "postFinalVmState", game.write.postFinalVmState([valueAt(side, Number(hi))], { account: sides[side]!.wallet.account }));
  }
  let rounds = 0;
  while ((await game.read.phase()) === Phase.Vm) {
    const points = (await game.read.roundPoints()).map(Number);
    for (const side of [Side.Defender, Side.Challenger]) {
      const values = points.map((pt) => valueAt(side, pt));
      await send(p, gas, "moveVm", game.write.moveVm([values], { account: sides[side]!.wallet.account }));
    }
    rounds++;
  }
  return rounds;
}

/** Loads the keccak part the step reads (anyone may), then steps from a third account. */
export async function stepGame(p: Protocol, game: Game, w: StepWitness, from: Protocol["wallets"]["alice"], gas: Gas) {
  if (w.preimage !== undefined && w.preimage.key[0] === 2) {
    await send(p, gas, "loadKeccak256PreimagePart", p.preimageOracle.write.loadKeccak256PreimagePart([BigInt(w.preimage.offset), hx(w.preimage.data)], { account: from.account }));
  }
  return send(p, gas, "step", game.write.step([hx(w.preState), hx(w.proof)], { account: from.account }));
}
