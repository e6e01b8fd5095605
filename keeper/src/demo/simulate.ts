/**
 * One dispute on Hardhat's in-process chain, end to end (`oao dispute simulate`, `npm run
 * dispute:gpt -- --chain`, the bench's scale section): a local world deployed by Ignition with the
 * given game parameters, an honest and a cheating keeper (scenario.ts) through the keeper service,
 * one request, its dispute, the figures read back from the chain.
 */
import { zeroAddress, type Hex } from "viem";
import { formatFault, type Fault } from "../../game/faults.ts";
import { encodeTensor, toHex, type Model, type Tensor } from "../../graph/index.ts";
import { InputError } from "../../graph/errors.ts";
import { disputeGameAbi } from "../dispute/abi.ts";
import { closeParties, createParties, playUntilFinal, type ProgressEvent } from "./scenario.ts";
import { createLocalWorld, type GameParams } from "./world.ts";

/** The contract's bound (DisputeGame: `vmTraceDepth_ > 40` reverts, docs/protocol.md §5.4). */
export const MAX_VM_TRACE_DEPTH = 40;

/** Checks a `--vm-trace-depth` value: an integer in 1..MAX_VM_TRACE_DEPTH. */
export function parseVmTraceDepth(text: string): number {
  const depth = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(depth) || depth < 1 || depth > MAX_VM_TRACE_DEPTH) {
    throw new InputError(`--vm-trace-depth ${text}: expected an integer in 1..${MAX_VM_TRACE_DEPTH} (the VM trace covers 2^depth guest steps)`);
  }
  return depth;
}

export interface ChainSimulationParams {
  model: Model;
  /** The model's file or directory, named in the keepers' configs (they share `model`, not reload it). */
  modelFile: string;
  input: Tensor;
  fault: Fault;
  seed: number;
  /** Overrides of the local game parameters (world.ts LOCAL_GAME), e.g. `{ vmTraceDepth: 32 }`. */
  game?: Partial<GameParams>;
  onProgress?: (e: ProgressEvent) => void;
}

export interface KindGasSummary {
  count: number;
  minGas: string;
  maxGas: string;
  totalGas: string;
}

export interface ChainSimulation {
  mode: "chain";
  model: string;
  fault: string;
  seed: number;
  winner: "honest" | "cheater" | "undecided" | "none";
  cheaterSlashed: string;
  /** The node the game bound for phase 1 (0: the game ended before). */
  disputedNode: string;
  graphRounds: number;
  vmRounds: number;
  vmTraceDepth: number;
  transactions: number;
  gasUsed: string;
  gasByKind: Record<string, KindGasSummary>;
  /** From the tick in which the game appeared (traces built) to the end of the game. */
  disputeSeconds: number;
  /** World deployment, keepers, request, dispute, finalization. */
  seconds: number;
}

export async function simulateOnChain(p: ChainSimulationParams): Promise<ChainSimulation> {
  const started = performance.now();
  const world = await createLocalWorld({ game: p.game });
  const modelId = await world.registerModel(p.model);
  // A deployment too shallow for the model is simulated on purpose (the game ends undecided): the
  // keepers serve the model anyway, where a keeper serving users would refuse it (§6.0).
  const parties = await createParties(world, { model: p.model, modelId, modelFile: p.modelFile, fault: p.fault, seed: p.seed, skipStepCheck: "oao dispute simulate: the deployment's depth is the simulation's choice" });
  try {
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    const hash = await world.contracts.aiOracle.write.requestCallback([modelId, toHex(encodeTensor(p.input)) as Hex, zeroAddress, 0n, "0x"], { value: fee });
    await world.publicClient.waitForTransactionReceipt({ hash });
    const requestId = await world.contracts.aiOracle.read.requestCount();
    const r = await playUntilFinal(world, parties, [requestId], p.onProgress);
    let disputedNode = 0n;
    for (const game of r.games) {
      const [, nodeIndex] = (await world.publicClient.readContract({ address: game, abi: disputeGameAbi, functionName: "vmInputs" })) as readonly [Hex, bigint, Hex, Hex];
      if (nodeIndex !== 0n) disputedNode = nodeIndex;
    }
    const gasByKind: Record<string, KindGasSummary> = {};
    for (const [kind, g] of Object.entries(r.gasByKind)) {
      gasByKind[kind] = { count: g.count, minGas: g.minGas.toString(), maxGas: g.maxGas.toString(), totalGas: g.totalGas.toString() };
    }
    return {
      mode: "chain",
      model: p.model.metadata.name,
      fault: formatFault(p.fault),
      seed: p.seed,
      winner: r.winner,
      cheaterSlashed: r.cheaterSlashed.toString(),
      disputedNode: disputedNode.toString(),
      graphRounds: r.graphRounds,
      vmRounds: r.vmRounds,
      vmTraceDepth: world.game.vmTraceDepth,
      transactions: r.transactions,
      gasUsed: r.gasUsed.toString(),
      gasByKind,
      disputeSeconds: Number(r.disputeSeconds.toFixed(3)),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
  } finally {
    closeParties(parties);
    await world.conn.close(); // the in-process chain's memory goes with it (the bench runs several)
  }
}
