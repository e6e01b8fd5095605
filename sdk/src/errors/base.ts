import { version } from "../version.ts";

export interface BaseErrorParameters {
  /** The error that caused this one; kept as `cause` and walked by `walk()`. */
  cause?: unknown;
  /** What went wrong in more detail (defaults to the cause's details or message). */
  details?: string | undefined;
  /** Extra lines shown between the short message and the details (values, hints). */
  metaMessages?: string[] | undefined;
  name?: string | undefined;
}

export type BaseErrorType = BaseError & { name: "OaoBaseError" };

/**
 * Root of every error the SDK throws: a short message a UI can show, details, optional lines
 * with the offending values, and the cause chain (viem's errors are causes, not wrapped away).
 */
export class BaseError extends Error {
  readonly shortMessage: string;
  readonly details: string;
  readonly metaMessages: string[] | undefined;
  readonly version = `@oao/sdk@${version}`;
  override name = "OaoBaseError";

  constructor(shortMessage: string, args: BaseErrorParameters = {}) {
    const cause = args.cause;
    const details =
      args.details ??
      (cause instanceof BaseError
        ? cause.details
        : cause instanceof Error
          ? ((cause as Error & { shortMessage?: string }).shortMessage ?? cause.message)
          : cause !== undefined
            ? String(cause)
            : "");
    const message = [
      shortMessage,
      ...(args.metaMessages?.length ? ["", ...args.metaMessages] : []),
      ...(details && details !== shortMessage ? ["", `Details: ${details}`] : []),
      "",
      `Version: @oao/sdk@${version}`,
    ].join("\n");
    super(message, cause !== undefined ? { cause } : undefined);
    this.shortMessage = shortMessage;
    this.details = details;
    this.metaMessages = args.metaMessages;
    if (args.name) this.name = args.name;
  }

  /** The deepest cause, or the first error in the chain (this one included) matching `fn`. */
  walk(): unknown;
  walk(fn: (err: unknown) => boolean): unknown;
  walk(fn?: (err: unknown) => boolean): unknown {
    let err: unknown = this;
    for (;;) {
      if (fn?.(err)) return err;
      const next = err instanceof Error ? err.cause : undefined;
      if (next === undefined || next === null) return fn ? null : err;
      err = next;
    }
  }
}
