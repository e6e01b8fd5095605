/**
 * How the CLI prints an error: one readable line, and for a contract revert the custom error decoded with its
 * arguments (`InsufficientFreeStake(0x70…, 0, 1000)`), never viem's raw `custom error 0x738cfa45`.
 */
import { decodeRevert, formatRevert } from "../service/reconcile.ts";

export function describeCliError(error: unknown): string {
  const revert = decodeRevert(error);
  const viem = error as { shortMessage?: unknown; message?: unknown };
  const text = typeof viem.shortMessage === "string" ? viem.shortMessage : error instanceof Error ? error.message : String(error);
  if (!revert) return text;
  const decoded = formatRevert(revert);
  // viem's short message names the raw selector when it had no ABI for it ("reverted with the following
  // signature: 0x738cfa45", "custom error 0x738cfa45"): replace it by the decoded error.
  const first = text.split("\n")[0]!
    .replace(/with the following signature:?\s*0x[0-9a-fA-F]{8}\.?/, "")
    .replace(/custom error 0x[0-9a-fA-F]{8}[^.\n]*/, decoded)
    .trim();
  return first.includes(decoded) ? first : `${first.replace(/[.:]$/, "")}: ${decoded}`;
}
