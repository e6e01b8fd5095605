/**
 * docs/frontend-guide.md's code blocks, one after the other, verbatim but for the SDK's import paths
 * (test/dapp/frontend-guide-doc.test.ts checks the guide carries each): `npm test`'s typecheck compiles
 * them against the SDK's real types, so a renamed function, option or field breaks the build. Not run:
 * the queries need a graph-node indexing a chain (subgraph/README.md, "Indexing oao devnet"); the
 * functions themselves are tested against the subgraph's schema and fixtures in sdk/test.
 */
import type { Address, Chain } from "viem";

// the reader's own values
declare const chain: Chain;
declare const rpcUrl: string;
declare const account: Address;
declare const consumerContract: Address;
declare const requestId: bigint;
declare const operator: Address;

import { createPublicClient, http } from "viem";
import {
  createSubgraphClient,
  getIndexedRequests,
  getDisputes,
  getOperatorScorecards,
  getSlashes,
  assertSubgraphFresh,
} from "../../sdk/src/subgraph/index.ts";
import { getDispute } from "../../sdk/src/index.ts";

const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
const subgraph = createSubgraphClient({ url: "http://127.0.0.1:8000/subgraphs/name/oao" });

// "My requests": the user sends the transaction, the consumer contract (the requester) calls the oracle.
const mine = await getIndexedRequests(subgraph, { txFrom: account, status: ["Committed", "Challenged"] });
const viaMyContract = await getIndexedRequests(subgraph, { requester: consumerContract });
const open = await getDisputes(subgraph, { open: true });
const board = await getOperatorScorecards(subgraph, { first: 20 });
const slashed = await getSlashes(subgraph, { operator });

const [game] = await getDisputes(subgraph, { requestId, open: true }); // undefined: no open game
const live = game && (await getDispute(publicClient, { address: game.game })); // phase, range, clocks.remaining, stepDeadline, winner

const f = await assertSubgraphFresh(publicClient, subgraph, { maxLag: 5n });
// throws SubgraphStaleError (lag, or indexing errors, or a block hash the chain no longer has)

export { mine, viaMyContract, open, board, slashed, live, f };
