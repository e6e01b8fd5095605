/**
 * Keeper errors: one root class with a short message, optional details and a cause chain
 * (viem's BaseError pattern). `retryable` tells the scheduler whether trying again can help.
 */
export class KeeperError extends Error {
  override name = "KeeperError";
  readonly details: string | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: { details?: string; cause?: unknown; retryable?: boolean } = {}) {
    super(options.details ? `${message}\n\nDetails: ${options.details}` : message, { cause: options.cause });
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

export class ConfigError extends KeeperError {
  override name = "ConfigError";
}

export class StoreError extends KeeperError {
  override name = "StoreError";
}
