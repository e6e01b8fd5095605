/** JSON logs (pino). Anything that could hold a key is redacted before it is written. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? "oao-keeper",
      level: options.level ?? "info",
      redact: {
        paths: ["privateKey", "*.privateKey", "key", "*.key", "account.privateKey", "mnemonic", "*.mnemonic"],
        censor: "[redacted]",
      },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}
