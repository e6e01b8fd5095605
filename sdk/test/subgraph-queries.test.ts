/**
 * The subgraph query functions turn rows into typed values and filters into `where` inputs: undecided
 * games (winner `Undecided`, decided by `Agreement`), cancelled requests and undecided counts come through,
 * and `open` disputes are those without an outcome. A recording client stands in for graph-node (the
 * documents themselves are validated against the schema in subgraph-documents.test.ts).
 */
import { print } from "graphql";
import { describe, expect, it } from "vitest";
import {
  type SubgraphClient,
  SubgraphResponseError,
  getDisputes,
  getIndexedRequests,
  getOperatorScorecards,
  getSlashes,
  getSubgraphFreshness,
} from "../src/subgraph/index.ts";

function recording(data: unknown): SubgraphClient & { calls: { query: string; variables: Record<string, unknown> }[] } {
  const calls: { query: string; variables: Record<string, unknown> }[] = [];
  return {
    url: "http://subgraph.invalid",
    calls,
    async request(document, variables) {
      calls.push({ query: print(document), variables: variables as Record<string, unknown> });
      return data as never;
    },
  };
}

const GAME = "0x00000000000000000000000000000000000000aa";
const OP = "0x0000000000000000000000000000000000000022";
const USER = "0x00000000000000000000000000000000000000e0";

const disputeRow = {
  id: GAME,
  request: { id: "7" },
  defenderClaim: { id: "1" },
  challengerClaim: { id: "2" },
  defender: { id: OP },
  challenger: { id: "0x0000000000000000000000000000000000000033" },
  winner: "Undecided",
  loserSlashed: "0",
  createdAt: "1100",
  resolvedAt: "1320",
  duration: "220",
  phase: "Resolved",
  lo: "0",
  hi: "2097152",
  rounds: 2,
  nodeIndex: "4",
  decidedBy: "Agreement",
  defenderClockUsed: "160",
  defenderClockRunningSince: null,
  challengerClockUsed: "170",
  challengerClockRunningSince: null,
};

describe("subgraph queries", () => {
  it("getDisputes maps an undecided game and asks for open games as those without an outcome", async () => {
    const client = recording({ disputes: [disputeRow] });
    const [dispute] = await getDisputes(client, { requestId: 7n, open: true });
    expect(client.calls[0]!.variables.where).toEqual({ request: "7", winner: null });
    expect(dispute).toMatchObject({ game: GAME, winner: "Undecided", decidedBy: "Agreement", loserSlashed: 0n, nodeIndex: 4n, resolvedAt: 1320n });
    expect(dispute!.clocks.defender).toEqual({ used: 160n, runningSince: null });
  });

  it("getDisputes of an operator repeats the other filters inside each `or` clause (graph-node refuses them beside it)", async () => {
    const client = recording({ disputes: [] });
    await getDisputes(client, { requestId: 7n, open: true, operator: OP });
    const op = OP.toLowerCase();
    expect(client.calls[0]!.variables.where).toEqual({ or: [{ request: "7", winner: null, defender: op }, { request: "7", winner: null, challenger: op }] });
  });

  it("getIndexedRequests filters by Cancelled and returns when the request was cancelled", async () => {
    const row = {
      id: "7",
      requestId: "7",
      requester: "0x0000000000000000000000000000000000000011",
      txFrom: USER,
      model: { id: "1", modelId: "1" },
      status: "Cancelled",
      output: "0x05",
      outputHash: "0x" + "0a".repeat(32),
      deliveryMode: "AtFinality",
      deadline: "4600",
      totalFee: "1230",
      createdAt: "1000",
      firstCommittedAt: "1030",
      finalizedAt: null,
      commitLatency: "30",
      finalityLatency: null,
      disputeCount: 1,
      deliveries: 0,
      callbackCount: 0,
      lastCallbackSucceeded: null,
      standingClaim: { id: "1", operator: { id: OP } },
      cancelledAt: "1320",
    };
    const client = recording({ requests: [row] });
    const [request] = await getIndexedRequests(client, { status: ["Cancelled"] });
    expect(client.calls[0]!.variables.where).toEqual({ status_in: ["Cancelled"] });
    expect(client.calls[0]!.query).toContain("cancelledAt");
    expect(request).toMatchObject({ requestId: 7n, status: "Cancelled", cancelledAt: 1320n, answeredBy: OP, txFrom: USER });
  });

  it("getIndexedRequests lists a user's requests through a consumer contract by txFrom", async () => {
    const client = recording({ requests: [] });
    await getIndexedRequests(client, { txFrom: "0x00000000000000000000000000000000000000E0" });
    expect(client.calls[0]!.variables.where).toEqual({ txFrom: USER });
    expect(client.calls[0]!.query).toContain("txFrom");
  });

  it("getOperatorScorecards counts undecided games apart from wins and losses", async () => {
    const row = {
      id: OP,
      activeStake: "150",
      lockedStake: "0",
      unbondingStake: "0",
      jailedUntil: "0",
      answered: 1,
      challenges: 0,
      accepted: 0,
      disputesWon: 0,
      disputesLost: 0,
      disputesUndecided: 1,
      slashCount: 0,
      slashedTotal: "0",
      feesEarned: "0",
    };
    const [card] = await getOperatorScorecards(recording({ operators: [row] }), {});
    expect(card).toMatchObject({ operator: OP, disputesWon: 0, disputesLost: 0, disputesUndecided: 1 });
  });

  describe("responses are checked", () => {
    const request = {
      id: "7", requestId: "7", requester: OP, txFrom: USER, model: { id: "1", modelId: "1" }, status: "Committed",
      output: "0x05", outputHash: null, deliveryMode: "AtCommit", deadline: "4600", totalFee: "1230", createdAt: "1000",
      firstCommittedAt: "1030", finalizedAt: null, commitLatency: "30", finalityLatency: null, disputeCount: 0, deliveries: 1,
      callbackCount: 1, lastCallbackSucceeded: true, standingClaim: null, cancelledAt: null,
    };
    const fails = async (promise: Promise<unknown>) => {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(SubgraphResponseError);
      return error as SubgraphResponseError;
    };

    it("a missing field names the entity, the field and the row (not `Cannot convert undefined to a BigInt`)", async () => {
      const { totalFee: _, ...noFee } = request;
      const error = await fails(getIndexedRequests(recording({ requests: [request, noFee] }), {}));
      expect(error.shortMessage).toBe("The subgraph's response has no Request.totalFee (at requests[1].totalFee).");
      expect(error).toMatchObject({ entity: "Request", field: "totalFee", path: "requests[1].totalFee" });
      expect(error.message).toMatch(/deployed from the schema of this SDK version/);
    });

    it("an older subgraph without txFrom is reported as such", async () => {
      const { txFrom: _, ...old } = request;
      const error = await fails(getIndexedRequests(recording({ requests: [old] }), {}));
      expect(error.field).toBe("txFrom");
    });

    it("malformed values, missing lists and nested entities are caught", async () => {
      expect((await fails(getIndexedRequests(recording({ requests: [{ ...request, deadline: "soon" }] }), {}))).shortMessage).toMatch(/bad Request\.deadline .*not an integer/);
      expect((await fails(getIndexedRequests(recording({ requests: [{ ...request, status: "Lost" }] }), {}))).field).toBe("status");
      expect((await fails(getIndexedRequests(recording({}), {}))).path).toBe("requests");
      expect((await fails(getIndexedRequests(recording({ requests: [{ ...request, model: null }] }), {}))).path).toBe("requests[0].model");
      expect((await fails(getDisputes(recording({ disputes: [{ ...disputeRow, defender: {} }] }), {}))).path).toBe("disputes[0].defender.id");
      expect((await fails(getSlashes(recording({ slashes: [{ operator: { id: OP } }] }), {}))).path).toBe("slashes[0].amount");
      expect((await fails(getOperatorScorecards(recording({ operators: [{ id: OP, activeStake: 5 }] }), {}))).field).toBe("lockedStake");
    });

    it("_meta is checked too", async () => {
      const chain = { request: async () => "0x10" } as never;
      const client = (await import("viem")).createPublicClient({ transport: (await import("viem")).custom(chain) });
      const error = await fails(getSubgraphFreshness(client, recording({ _meta: { block: { number: "x", hash: null }, hasIndexingErrors: false } })));
      expect(error.path).toBe("_meta.block.number");
    });
  });
});
