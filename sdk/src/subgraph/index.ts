// `@oao/sdk/subgraph`: typed subgraph queries for frontends.
export { type SubgraphClient, type SubgraphClientParameters, createSubgraphClient } from "./client.ts";
export * from "./documents.ts";
export * from "./queries.ts";
export { SubgraphRequestError, SubgraphResponseError, SubgraphStaleError } from "../errors/subgraph.ts";
