/**
 * End to end on Hardhat's chain, everything real: the MNIST model registered by descriptor, an honest and a
 * cheating claim with their §3.5 proofs, phase 2 over real graph-trace proofs, the contract-bound transition,
 * phase 1 over the real guest's VM trace, and one `MIPS.step` with a real witness. The honest side wins either
 * way round, the cheater is slashed and jailed, and every stake token is accounted for.
 */
import { afterAll, describe, expect, it } from "vitest";
import { getAddress, parseEventLogs } from "viem";
import { localKey, localizeKey } from "../../keeper/vm/index.ts";
import { deployProtocol, hx, Phase, Side, BOND, STAKE, WINNER_BPS, REQUESTER_BPS, VM_TRACE_DEPTH } from "./chain.ts";
import { firstPreimageRead, gameAt, mnistClaims, playGraph, playVm, postClaim, stepGame, vmTraceFor, type Claimant, type Gas } from "./play.ts";

interface Scenario {
  name: string;
  cheaterDefends: boolean;
  faultNode: number;
  /** The cheater lies in phase 1 from the step after the first read of a preimage of this key type. */
  lieAfterRead: 1 | 2;
}

const scenarios: Scenario[] = [
  { name: "cheating defender (graph:2), honest challenger; the step reads local data the game loads", cheaterDefends: true, faultNode: 2, lieAfterRead: 1 },
  { name: "honest defender, cheating challenger (graph:1); the step reads a keccak preimage part loaded first", cheaterDefends: false, faultNode: 1, lieAfterRead: 2 },
];

export const measuredGas: Gas = {};

describe("dispute game end to end (MNIST, real VM)", () => {
  afterAll(() => {
    // Gas per transaction kind over both scenarios (docs/benchmarks.md).
    for (const [kind, list] of Object.entries(measuredGas)) {
      const sorted = [...list].sort((a, b) => (a < b ? -1 : 1));
      console.log(`gas ${kind}: n=${list.length} min=${sorted[0]} max=${sorted[sorted.length - 1]}`);
    }
  });

  for (const sc of scenarios) {
    it(sc.name, async () => {
      const p = await deployProtocol();
      const { alice, bob, dave, user } = p.wallets;
      const gas = measuredGas;
      const totalBefore = await p.tokenTotal();
      const claims = mnistClaims(p, 3, sc.faultNode);
      const honest: Claimant = { wallet: alice, output: claims.honest.output, trace: claims.honest.trace, honest: true };
      const cheater: Claimant = { wallet: bob, output: claims.cheat.output, trace: claims.cheat.trace, honest: false };
      const [defender, challenger] = sc.cheaterDefends ? [cheater, honest] : [honest, cheater];

      const requestId = await p.request(claims.inputBytes);
      await postClaim(p, "commit", requestId, defender, gas);
      const receipt = await postClaim(p, "challenge", requestId, challenger, gas);
      const [created] = parseEventLogs({ abi: p.tm.abi, logs: receipt.logs, eventName: "ClaimChallenged" });
      const gameAddress = created!.args.game;
      const game = await gameAt(p, gameAddress);
      expect(await game.read.player([Side.Defender])).toBe(getAddress(defender.wallet.account.address));
      expect(await game.read.range()).toEqual([0n, BigInt(p.model.nodes.length)]);
      expect(await game.read.agreedValue()).toBe(hx(claims.honest.trace.states[0]!));

      // Phase 2 ends at the first wrong node; the contract binds the VM inputs itself.
      const graphRounds = await playGraph(p, game, [defender, challenger], gas);
      expect(graphRounds).toBeGreaterThan(0);
      expect(await game.read.phase()).toBe(Phase.VmStart);
      const i = Number(await game.read.nodeIndex());
      expect(i).toBe(sc.faultNode);
      const [modelRoot, boundIndex, preState, postState] = await game.read.vmInputs();
      expect(modelRoot).toBe(hx(p.model.modelRoot));
      expect(boundIndex).toBe(BigInt(i));
      expect(preState).toBe(hx(claims.honest.trace.states[i - 1]!));
      expect(postState).toBe(hx(defender.trace.states[i]!));
      expect(await game.read.range()).toEqual([0n, 1n << BigInt(VM_TRACE_DEPTH)]);
      expect(await game.read.agreedValue()).toBe(p.absolutePrestate);

      // Phase 1 over the guest's real trace.
      const localContext = await game.read.localContext();
      const vm = vmTraceFor(p, gameAddress, claims, i, defender.trace.states[i]!, localContext);
      const final = vm.trace.run(1 << VM_TRACE_DEPTH);
      expect(final.exited).toBe(true);
      expect(final.exitCode).toBe(sc.cheaterDefends ? 1 : 0);
      const readStep = firstPreimageRead(vm.source, sc.lieAfterRead);
      const vmRounds = await playVm(p, game, [defender, challenger], vm.trace, readStep + 1, gas);
      expect(await game.read.phase()).toBe(Phase.Step);
      expect(await game.read.range()).toEqual([BigInt(readStep), BigInt(readStep + 1)]);

      // Attempts to steer the transition: anyone may load "local data" into the oracle, but only under their own
      // localized key; the game's keys are untouched.
      const fake = hx(new Uint8Array(32).fill(0xee));
      await p.wait(await p.preimageOracle.write.loadLocalData([4n, localContext, fake, 32n, 0n], { account: dave.account }));

      // The one step, executed by a third party with the honest witness.
      const w = vm.trace.witness(readStep);
      expect(w.preStateHash).toBe(await game.read.agreedValue());
      expect(w.preimage?.key[0]).toBe(sc.lieAfterRead);
      const stepReceipt = await stepGame(p, game, w, dave, gas);
      const stepped = parseEventLogs({ abi: game.abi, logs: stepReceipt.logs, eventName: "GameStepped" });
      expect(stepped[0]!.args.postState).toBe(w.postStateHash);
      if (sc.lieAfterRead === 1) {
        // The part the step read is the game's bound value, stored under the game's localized key.
        const ident = BigInt(w.preimage!.key[31]!);
        const key = localizeKey(localKey(ident), { caller: getAddress(gameAddress), localContext });
        const [part] = await p.preimageOracle.read.readPreimage([hx(key), BigInt(w.preimage!.offset)]);
        expect(part).toBe(hx(w.preimage!.part));
      }

      // Resolution: the honest side wins, the cheater is slashed and jailed, stake is conserved.
      const honestSide = sc.cheaterDefends ? Side.Challenger : Side.Defender;
      expect(await game.read.phase()).toBe(Phase.Resolved);
      expect(await game.read.winner()).toBe(honestSide);
      const record = await p.tm.read.getGame([gameAddress]);
      expect(record.status).toBe(sc.cheaterDefends ? 3 : 2); // ChallengerWon : DefenderWon
      const cheat = await p.staking.read.getAccount([bob.account.address]);
      expect(cheat.active).toBe(STAKE - BOND);
      expect(cheat.jailedUntil).toBeGreaterThan(0n);
      expect(await p.token.read.balanceOf([alice.account.address])).toBe((BOND * WINNER_BPS) / 10_000n);
      expect(await p.token.read.balanceOf([user.account.address])).toBe((BOND * REQUESTER_BPS) / 10_000n);
      expect(await p.tokenTotal()).toBe(totalBefore);
      const task = await p.tm.read.getTask([requestId]);
      const standing = await p.tm.read.getClaim([task.standingClaimId]);
      expect(standing.operator).toBe(getAddress(alice.account.address));
      expect(await p.oracle.read.getOutputHash([requestId])).toBe(standing.outputHash);

      // A decided game takes no more moves and no second step.
      await expect(game.write.step([hx(w.preState), hx(w.proof)], { account: dave.account })).rejects.toThrow(/WrongPhase/);
      await expect(game.write.claimTimeout({ account: dave.account })).rejects.toThrow(/GameNotInProgress/);
      console.log(`${sc.name}: ${graphRounds} graph rounds, ${vmRounds} VM rounds, step ${readStep}`);
    });
  }
});
