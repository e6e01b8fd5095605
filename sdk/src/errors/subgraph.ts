import { BaseError } from "./base.ts";

export type SubgraphRequestErrorType = SubgraphRequestError & { name: "SubgraphRequestError" };
/** The subgraph endpoint failed or answered with GraphQL errors. */
export class SubgraphRequestError extends BaseError {
  readonly url: string;
  readonly errors: readonly { message: string }[];
  constructor({ url, errors, cause }: { url: string; errors?: readonly { message: string }[]; cause?: unknown }) {
    super(`The subgraph query to ${url} failed.`, {
      name: "SubgraphRequestError",
      cause,
      metaMessages: errors?.length ? errors.map((e) => `GraphQL error: ${e.message}`) : undefined,
    });
    this.url = url;
    this.errors = errors ?? [];
  }
}

export type SubgraphStaleErrorType = SubgraphStaleError & { name: "SubgraphStaleError" };
/** The subgraph lags the chain head by more than the caller accepts, or has indexing errors. */
export class SubgraphStaleError extends BaseError {
  readonly subgraphBlock: bigint;
  readonly chainBlock: bigint;
  readonly lag: bigint;
  constructor({
    subgraphBlock,
    chainBlock,
    maxLag,
    hasIndexingErrors,
  }: { subgraphBlock: bigint; chainBlock: bigint; maxLag: bigint; hasIndexingErrors: boolean }) {
    const lag = chainBlock > subgraphBlock ? chainBlock - subgraphBlock : 0n;
    super(
      hasIndexingErrors
        ? `The subgraph has indexing errors (indexed up to block ${subgraphBlock}).`
        : `The subgraph is ${lag} blocks behind the chain (at ${subgraphBlock}, head ${chainBlock}).`,
      {
        name: "SubgraphStaleError",
        details: hasIndexingErrors
          ? "Its data stops at a failed handler; read from the chain or wait for a fixed deployment."
          : `At most ${maxLag} blocks of lag were accepted; wait for it to catch up or raise \`maxLag\`.`,
      },
    );
    this.subgraphBlock = subgraphBlock;
    this.chainBlock = chainBlock;
    this.lag = lag;
  }
}

export type SubgraphResponseErrorType = SubgraphResponseError & { name: "SubgraphResponseError" };
/**
 * The subgraph answered, but a row lacks a field the SDK asked for or has one of the wrong type: the endpoint
 * serves another schema than the SDK's (an older deployment, another subgraph), or a proxy changed the answer.
 */
export class SubgraphResponseError extends BaseError {
  readonly entity: string;
  readonly field: string;
  /** Where in the response: `requests[3].totalFee`. */
  readonly path: string;
  constructor({ entity, field, path, problem, value }: { entity: string; field: string; path: string; problem: string; value: unknown }) {
    super(`The subgraph's response has ${problem === "missing" ? "no" : "a bad"} ${entity}${field ? `.${field}` : ""} (at ${path}${problem === "missing" ? "" : `: ${problem}`}).`, {
      name: "SubgraphResponseError",
      details: problem === "missing" ? undefined : `got ${JSON.stringify(value)?.slice(0, 80)}`,
      metaMessages: ["Is the endpoint the oracle's subgraph, deployed from the schema of this SDK version (subgraph/schema.graphql)?"],
    });
    this.entity = entity;
    this.field = field;
    this.path = path;
  }
}
