/**
 * The frontend guide's subgraph queries (docs/frontend-guide.md) run against indexed data: the dev indexer
 * (`oao subgraph serve`, subgraph/indexer/) runs the compiled mappings on a local chain where an honest keeper
 * answers two MNIST requests — one through the DigitClassifier consumer contract (requester ≠ txFrom), one
 * from an account directly — and a cheating keeper falsely challenges both and loses both games. The guide's
 * SDK calls are checked against the chain's own state: while a game is open, and after everything is final.
 * Last, the failures it stops on: a handler that fails (an indexer started without the committed claims), and a
 * block it indexed reverted away; either way it says so, and the freshness check fails.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeroAddress, type Address, type Hex } from "viem";
import {
  assertSubgraphFresh,
  createSubgraphClient,
  getDisputes,
  getIndexedRequests,
  getOperatorScorecards,
  getSlashes,
  getSubgraphFreshness,
  type SubgraphClient,
} from "../../sdk/src/subgraph/index.ts";
import { getDispute } from "../../sdk/src/actions/getDispute.ts";
import { claimStatuses, disputeGameAbi, requestStatuses } from "../../sdk/src/contracts.ts";
import { RequestDetailDocument } from "../../sdk/src/subgraph/documents.ts";
import { SubgraphStaleError } from "../../sdk/src/errors/subgraph.ts";
import { parseFault } from "../../keeper/game/faults.ts";
import { claimCommitment } from "../../keeper/src/service/claims.ts";
import { loadModelFile, resolveModelPath } from "../../keeper/src/service/models.ts";
import { createLocalWorld, type LocalWorld } from "../../keeper/src/demo/world.ts";
import { closeParties, createParties, playUntilFinal, readSlashes, type PlayResult } from "../../keeper/src/demo/scenario.ts";
import { subgraphNetworks } from "../../keeper/src/demo/subgraph-networks.ts";
import { boundNode } from "../../keeper/src/demo/story.ts";
import { startDevIndexer, type DevIndexer } from "../../subgraph/indexer/server.ts";

const modelFile = resolveModelPath("mnist");
const model = loadModelFile(modelFile);
const image = `0x${"00".repeat(784)}` as Hex;
/** The user behind the consumer contract: dev account 5 (0 deploys, 1 and 2 are the keepers). */
const USER = 5;
/** graph-node (and so the SDK's rows) returns addresses in lowercase. */
const lower = (a: string) => a.toLowerCase() as Address;

describe("the frontend guide's subgraph queries on the dev indexer", () => {
  let world: LocalWorld;
  let parties: Awaited<ReturnType<typeof createParties>>;
  let indexer: DevIndexer;
  let subgraph: SubgraphClient;
  let user: Address;
  let classifier: Address;
  let viaContract: bigint;
  let direct: bigint;
  let modelId: bigint;
  let play: PlayResult;
  /** What the guide's calls returned while the first game was open. */
  let duringGame:
    | {
        game: Address;
        open: Awaited<ReturnType<typeof getDisputes>>;
        mine: Awaited<ReturnType<typeof getIndexedRequests>>;
        chainStatus: string;
        ofRequest: Awaited<ReturnType<typeof getDisputes>>[number] | undefined;
        live: Awaited<ReturnType<typeof getDispute>> | undefined;
      }
    | undefined;

  const chainStatus = async (requestId: bigint) => requestStatuses[await world.contracts.aiOracle.read.getStatus([requestId])]!;

  beforeAll(async () => {
    world = await createLocalWorld();
    modelId = await world.registerModel(model);
    parties = await createParties(world, { model, modelId, modelFile, fault: parseFault("false-challenge:2"), seed: 3 });
    const wallets = await world.conn.viem.getWalletClients();
    user = lower(wallets[USER]!.account.address);
    const consumer = await world.conn.viem.deployContract("DigitClassifier", [world.addresses.aiOracle, modelId]);
    classifier = lower(consumer.address);
    const wait = (hash: Hex) => world.publicClient.waitForTransactionReceipt({ hash });
    await wait(await consumer.write.classify([image], { value: await consumer.read.fee(), account: wallets[USER]!.account }));
    viaContract = await world.contracts.aiOracle.read.requestCount();
    const fee = await world.contracts.aiOracle.read.estimateFee([modelId, 0n]);
    await wait(await world.contracts.aiOracle.write.requestCallback([modelId, image, zeroAddress, 0n, "0x"], { value: fee }));
    direct = await world.contracts.aiOracle.read.requestCount();

    indexer = await startDevIndexer({
      client: world.publicClient,
      port: 0,
      deployment: { network: "localhost", contracts: subgraphNetworks(world.addresses, world.startBlock).localhost! },
      pollIntervalMs: 50,
    });
    // The URL the guide gives createSubgraphClient, on the port this test got.
    expect(new URL(indexer.url).pathname).toBe("/subgraphs/name/oao");
    subgraph = createSubgraphClient({ url: indexer.url });

    play = await playUntilFinal(world, parties, [viaContract, direct], async (e) => {
      if (e.kind !== "challenged" || duringGame) return;
      await indexer.synced();
      // docs/frontend-guide.md: "my" requests through a consumer contract, and the open games.
      const mine = await getIndexedRequests(subgraph, { txFrom: user, status: ["Committed", "Challenged"] });
      const open = await getDisputes(subgraph, { open: true });
      // And the guide's game panel: the request's open game from the subgraph, then the game itself from the chain.
      const [game] = await getDisputes(subgraph, { requestId: e.requestId, open: true });
      const live = game && (await getDispute(world.publicClient, { address: game.game }));
      duringGame = { game: lower(e.game), open, mine, chainStatus: await chainStatus(viaContract), ofRequest: game, live };
    });
    await indexer.synced();
  }, 900_000);

  afterAll(async () => {
    await indexer?.close();
    if (parties) closeParties(parties);
  });

  it("while a game is open: getDisputes({ open: true }) lists it, getIndexedRequests by txFrom and status finds the user's request", () => {
    expect(duringGame).toBeDefined();
    const { game, open, mine, chainStatus } = duringGame!;
    expect(open.map((d) => d.game)).toContain(game);
    const d = open.find((x) => x.game === game)!;
    expect(d.winner).toBeNull();
    expect(d.resolvedAt).toBeNull();
    expect(d.defender).toBe(lower(parties.honest.address));
    expect(d.challenger).toBe(lower(parties.cheater.address));
    expect([viaContract, direct]).toContain(d.requestId);
    // The consumer's request, by its user: only that one (the direct request's txFrom is account 0), if the chain
    // has it in one of the statuses asked for.
    expect(["Committed", "Challenged"]).toContain(chainStatus);
    expect(mine.map((r) => r.requestId)).toEqual([viaContract]);
    expect(mine[0]!.status).toBe(chainStatus);
    expect(mine[0]!.txFrom).toBe(user);
    expect(mine[0]!.requester).toBe(classifier);
    // getDisputes({ requestId, open: true }) then getDispute: the same game in the same phase and range; the
    // chess clocks as the guide computes them from the subgraph (used + now − runningSince while running).
    const { ofRequest, live } = duringGame!;
    expect(ofRequest?.game).toBe(game);
    expect(live).toBeDefined();
    expect({ phase: ofRequest!.phase, lo: ofRequest!.lo, hi: ofRequest!.hi }).toEqual({ phase: live!.phase, lo: live!.lo, hi: live!.hi });
    for (const side of ["defender", "challenger"] as const) {
      const { used, runningSince } = ofRequest!.clocks[side];
      expect({ side, running: runningSince !== null, used: used + (runningSince === null ? 0n : live!.timestamp - runningSince) }).toEqual({
        side,
        running: live!.clocks[side].running,
        used: live!.clocks[side].used,
      });
    }
  });

  it("getIndexedRequests({ requester: consumerContract }) returns the consumer's request as the chain has it", async () => {
    const viaMyContract = await getIndexedRequests(subgraph, { requester: classifier });
    expect(viaMyContract.map((r) => r.requestId)).toEqual([viaContract]);
    const r = viaMyContract[0]!;
    const [output] = await world.contracts.aiOracle.read.getResult([viaContract]);
    const onChain = await world.contracts.aiOracle.read.getRequest([viaContract]);
    expect(r).toMatchObject({ requester: classifier, txFrom: user, modelId, deadline: onChain.deadline, createdAt: onChain.createdAt, deliveries: onChain.deliveries });
    expect(r.status).toBe(await chainStatus(viaContract));
    expect(["Finalized", "Delivered"]).toContain(r.status);
    expect(r.output).toBe(output);
    expect(r.answeredBy).toBe(lower(parties.honest.address));
    expect(r.disputeCount).toBe(1);
    // The direct request: requester and txFrom are the same account; the user's filter does not return it.
    const [mine, all] = await Promise.all([getIndexedRequests(subgraph, { txFrom: user }), getIndexedRequests(subgraph, {})]);
    expect(mine.map((x) => x.requestId)).toEqual([viaContract]);
    expect(all.map((x) => x.requestId)).toEqual([direct, viaContract]); // newest first
    const d = all[0]!;
    expect(d.requester).toBe(d.txFrom);
    expect(d.requester).toBe(lower(world.owner.account.address));
    // Nothing is Committed or Challenged any more.
    expect(await getIndexedRequests(subgraph, { txFrom: user, status: ["Committed", "Challenged"] })).toEqual([]);
  });

  it("RequestDetailDocument: the consumer's request with its claims (as TaskManager has them), its game and its callbacks", async () => {
    const { request } = await subgraph.request(RequestDetailDocument, { id: viaContract.toString() });
    expect(request).not.toBeNull();
    const claims = request!.claims;
    expect(claims).toHaveLength(2); // the honest answer and the false challenge
    expect(claims.map((c) => BigInt(c.id))).toEqual(claims.map((c) => BigInt(c.id)).sort((a, b) => (a < b ? -1 : 1)));
    const tm = world.contracts.taskManager;
    // When a claim was posted is not stored on chain: it is the block of its ClaimCommitted (a commit) or of the
    // challenge that posted it (ClaimChallenged, or ChallengeQueued for a queued one).
    const postedAt = async (claimId: bigint) => {
      const [committed, challenged, queued] = await Promise.all([
        tm.getEvents.ClaimCommitted({ claimId }, { fromBlock: 0n }),
        tm.getEvents.ClaimChallenged({ challengerClaimId: claimId }, { fromBlock: 0n }),
        tm.getEvents.ChallengeQueued({ challengerClaimId: claimId }, { fromBlock: 0n }),
      ]);
      const log = [...committed, ...queued, ...challenged][0]!;
      return (await world.publicClient.getBlock({ blockNumber: log.blockNumber })).timestamp;
    };
    for (const c of claims) {
      const onChain = await tm.read.getClaim([BigInt(c.id)]);
      expect({ id: c.id, operator: c.operator.id, status: c.status, outputHash: c.outputHash, traceRoot: c.traceRoot, openGames: c.openGames, committedAt: c.committedAt }).toEqual({
        id: c.id,
        operator: lower(onChain.operator),
        status: claimStatuses[onChain.status],
        outputHash: onChain.outputHash,
        traceRoot: onChain.traceRoot,
        openGames: onChain.openGames,
        committedAt: (await postedAt(BigInt(c.id))).toString(),
      });
      // The indexed opening opens the claim's commitment on chain (what a challenge against it passes).
      const opening = { traceRoot: c.traceRoot as Hex, finalState: c.finalState as Hex };
      expect(claimCommitment(opening)).toBe(await tm.read.getClaimCommitment([BigInt(c.id)]));
    }
    expect(claims.map((c) => c.status)).toEqual(["Accepted", "Defeated"]);
    expect(claims[1]!.target).toEqual({ id: claims[0]!.id });
    expect(request!.disputes.map((d) => d.challengerClaim.id)).toEqual([claims[1]!.id]);
    // The consumer's callback ran (AtCommit delivery) and succeeded: what the contract recorded.
    expect(request!.callbacks).toHaveLength(request!.callbackCount);
    expect(request!.callbacks.length).toBeGreaterThan(0);
    expect(request!.callbacks.every((cb) => cb.success && !cb.isError)).toBe(true);
    expect(request!.lastCallbackSucceeded).toBe((await world.contracts.aiOracle.read.getRequest([viaContract])).lastCallbackSucceeded);
  });

  it("getDisputes: both games resolved for the defender, none open", async () => {
    expect(await getDisputes(subgraph, { open: true })).toEqual([]);
    const all = await getDisputes(subgraph, {});
    expect(all.map((d) => d.game).sort()).toEqual(play.games.map(lower).sort());
    const bond = await world.contracts.taskManager.read.claimBond();
    for (const d of all) {
      expect(d.winner).toBe("Defender");
      expect(d.loserSlashed).toBe(bond);
      expect(d.resolvedAt).not.toBeNull();
      expect(d.phase).toBe("Resolved");
      expect(d.decidedBy).toMatch(/^(Step|Timeout|Agreement)$/);
      // Indexed by the DisputeGame template created in ClaimChallenged's block: the game's own events.
      const narrowed = await world.publicClient.getContractEvents({ address: d.game, abi: disputeGameAbi, eventName: "RangeNarrowed", fromBlock: world.startBlock });
      expect(narrowed.length).toBeGreaterThan(0);
      expect(d.rounds).toBe(narrowed.length);
      expect(d.nodeIndex).toBe(BigInt(await boundNode(world, d.game)));
      const [lo, hi] = await world.publicClient.readContract({ address: d.game, abi: disputeGameAbi, functionName: "range" });
      expect({ lo: d.lo, hi: d.hi }).toEqual({ lo, hi });
    }
    const ofRequest = await getDisputes(subgraph, { requestId: viaContract });
    expect(ofRequest).toHaveLength(1);
    expect(ofRequest[0]!.requestId).toBe(viaContract);
    // By operator (either side), with the other filters: graph-node's rule on `or` holds here too.
    expect((await getDisputes(subgraph, { operator: parties.honest.address })).map((d) => d.game).sort()).toEqual(play.games.map(lower).sort());
    const cheaterOnRequest = await getDisputes(subgraph, { operator: parties.cheater.address, requestId: viaContract });
    expect(cheaterOnRequest.map((d) => d.game)).toEqual([ofRequest[0]!.game]);
    expect(await getDisputes(subgraph, { operator: parties.cheater.address, open: true })).toEqual([]);
  });

  it("getOperatorScorecards({ first: 20 }) matches the staking contract's accounts", async () => {
    const board = await getOperatorScorecards(subgraph, { first: 20 });
    const honest = lower(parties.honest.address);
    const cheater = lower(parties.cheater.address);
    expect(board[0]!.operator).toBe(honest); // most answered first
    for (const card of board) {
      const account = await world.contracts.staking.read.getAccount([card.operator]);
      expect({ operator: card.operator, active: card.activeStake, locked: card.lockedStake, unbonding: card.unbondingStake, jailedUntil: card.jailedUntil }).toEqual({
        operator: card.operator,
        active: account.active,
        locked: account.locked,
        unbonding: account.unbonding,
        jailedUntil: BigInt(account.jailedUntil),
      });
    }
    const bond = await world.contracts.taskManager.read.claimBond();
    expect(board.find((c) => c.operator === honest)).toMatchObject({ answered: 2, challenges: 0, accepted: 2, disputesWon: 2, disputesLost: 0, slashCount: 0 });
    expect(board.find((c) => c.operator === cheater)).toMatchObject({ answered: 0, challenges: 2, disputesWon: 0, disputesLost: 2, slashCount: 2, slashedTotal: 2n * bond });
  });

  it("getSlashes({ operator }) returns the chain's Slashed events", async () => {
    const slashed = await getSlashes(subgraph, { operator: parties.cheater.address });
    const events = await readSlashes(world, world.startBlock);
    expect(events).toHaveLength(2);
    const key = (s: { amount: bigint; winner: Address; toWinner: bigint; toRequester: bigint; toTreasury: bigint }) =>
      [s.amount, lower(s.winner), s.toWinner, s.toRequester, s.toTreasury].join("/");
    expect(slashed.map(key).sort()).toEqual(events.map(key).sort());
    expect(slashed.map((s) => s.transactionHash).sort()).toEqual(events.map((e) => e.id.split("/")[0]).sort());
    for (const s of slashed) expect(s.operator).toBe(lower(parties.cheater.address));
    expect(await getSlashes(subgraph, { operator: parties.honest.address })).toEqual([]);
  });

  it("a failing handler stops indexing as graph-node fails the subgraph: its block rolled back, synced() rejects, _meta says so", async () => {
    const contracts = subgraphNetworks(world.addresses, world.startBlock).localhost!;
    // The task manager indexed only from after the commits: the challenge's ClaimChallenged handler finds no
    // defending claim. Its block first locked the challenger's bond (Staking's StakeLocked, a lower log index).
    const commits = await world.contracts.taskManager.getEvents.ClaimCommitted({}, { fromBlock: world.startBlock });
    const after = commits.reduce((m, l) => (l.blockNumber > m ? l.blockNumber : m), 0n) + 1n;
    const [challenge] = await world.contracts.taskManager.getEvents.ClaimChallenged({}, { fromBlock: after });
    const locks = await world.contracts.staking.getEvents.StakeLocked({}, { fromBlock: challenge!.blockNumber, toBlock: challenge!.blockNumber });
    expect(locks.some((l) => l.logIndex < challenge!.logIndex)).toBe(true);
    const broken = await startDevIndexer({
      client: world.publicClient,
      port: 0,
      deployment: { network: "localhost", contracts: { ...contracts, TaskManager: { ...contracts.TaskManager, startBlock: Number(after) } } },
      pollIntervalMs: 50,
    });
    try {
      const error = await broken.synced().then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/^handleClaimChallenged failed on ClaimChallenged \(block \d+, log \d+, tx 0x[0-9a-f]{64}\): Claim \d+ is not indexed/);
      expect(error?.message).toContain(`(block ${challenge!.blockNumber}, log ${challenge!.logIndex}, tx ${challenge!.transactionHash})`);
      const f = await getSubgraphFreshness(world.publicClient, createSubgraphClient({ url: broken.url }));
      expect(f.hasIndexingErrors).toBe(true);
      expect(f.fresh).toBe(false);
      expect(f.subgraphBlock).toBe(challenge!.blockNumber - 1n);
      // Rolled back whole: the lock indexed before the failing log is not in the store, the block before is.
      const movements = async (b: bigint) =>
        (
          await createSubgraphClient({ url: broken.url }).request(
            parse(`query($b: BigInt!) { stakeMovements(where: { blockNumber: $b }) { event } }`) as TypedDocumentNode<{ stakeMovements: { event: string }[] }, { b: string }>,
            { b: b.toString() },
          )
        ).stakeMovements;
      expect(await movements(challenge!.blockNumber)).toEqual([]);
      const earlier = await world.contracts.staking.getEvents.StakeLocked({}, { fromBlock: world.startBlock, toBlock: challenge!.blockNumber - 1n });
      expect(await movements(earlier.at(-1)!.blockNumber)).toContainEqual({ event: "StakeLocked" });
    } finally {
      await broken.close();
    }
  });

  it("assertSubgraphFresh passes at the head; a reverted block stops the indexer and the check fails", async () => {
    const head = await world.publicClient.getBlockNumber();
    const f = await assertSubgraphFresh(world.publicClient, subgraph, { maxLag: 5n });
    expect(f.subgraphBlock).toBe(head);
    expect(f.lag).toBe(0n);

    // A devnet reverted under a running indexer: the block it indexed is replaced by another.
    const snapshot = await world.conn.provider.request({ method: "evm_snapshot" });
    await world.conn.provider.request({ method: "evm_mine" });
    await indexer.synced(head + 1n);
    await world.conn.provider.request({ method: "evm_revert", params: [snapshot] });
    await world.advanceTime(7n); // a different block at head + 1
    await expect(indexer.synced(head + 10n)).rejects.toThrow(/block \d+ changed on the chain .* does not follow reorgs; restart it/);
    await expect(assertSubgraphFresh(world.publicClient, subgraph, { maxLag: 5n })).rejects.toBeInstanceOf(SubgraphStaleError);
  });
});
