import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { ClientError, GraphQLClient } from "graphql-request";
import { SubgraphRequestError } from "../errors/subgraph.ts";

export interface SubgraphClientParameters {
  /** The subgraph's GraphQL endpoint, e.g. `http://127.0.0.1:8000/subgraphs/name/oao`. */
  url: string;
  /** Extra headers (an API key for a hosted gateway). */
  headers?: Record<string, string>;
  /** A `fetch` implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

/** A thin typed wrapper over graphql-request: typed documents in, typed data or a SubgraphRequestError out. */
export interface SubgraphClient {
  readonly url: string;
  request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult>;
}

export function createSubgraphClient({ url, headers, fetch: fetchImpl }: SubgraphClientParameters): SubgraphClient {
  const client = new GraphQLClient(url, { headers, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  // graphql-request's overloads cannot be satisfied by a generic TVariables; the document fixes them.
  const send = client.request.bind(client) as unknown as (doc: unknown, vars: unknown) => Promise<unknown>;
  return {
    url,
    async request<TResult, TVariables extends Record<string, unknown>>(
      document: TypedDocumentNode<TResult, TVariables>,
      variables: TVariables,
    ): Promise<TResult> {
      try {
        return (await send(document, variables)) as TResult;
      } catch (cause) {
        const errors = cause instanceof ClientError ? cause.response.errors?.map((e) => ({ message: e.message })) : undefined;
        throw new SubgraphRequestError({ url, errors, cause });
      }
    },
  };
}
