/**
 * Runs a guest program under qemu-mips (Linux user mode) with the preimage oracle served over
 * real file descriptors: the guest writes keys to fd 6 and reads framed preimages from fd 5, as in
 * the VM (docs/protocol.md §4.5, §4.6). A reference executor for the guest while the VM is
 * elsewhere, and a second opinion after. Test/bench support: spawns a process.
 */
import { spawn, spawnSync } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { toHex } from "../../graph/hash.ts";
import { localKey, type NodeCheck } from "../../graph/preimages.ts";

export const hasQemu = (): boolean => spawnSync("qemu-mips", ["--version"]).status === 0;

export interface GuestRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `wrapper`: a command to run qemu-mips under (e.g. `/usr/bin/time -o file`); the oracle fds pass through. */
export function runGuestQemu(elf: string, check: NodeCheck, wrapper: readonly string[] = []): Promise<GuestRun> {
  const locals = new Map<string, Uint8Array>();
  for (const [ident, data] of check.locals) locals.set(toHex(localKey(ident)), data);
  return new Promise((resolve, reject) => {
    const [command, ...args] = [...wrapper, "qemu-mips", elf];
    const child = spawn(command!, args, { stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "pipe", "pipe"] });
    const stdio = child.stdio as unknown as (Readable | Writable | null)[];
    const toGuest = stdio[5] as Writable;
    const fromGuest = stdio[6] as Readable;
    let pending = Buffer.alloc(0);
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    toGuest.on("error", () => undefined); // the guest may exit without reading everything
    fromGuest.on("data", (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 32) {
        const key = toHex(new Uint8Array(pending.subarray(0, 32)));
        pending = pending.subarray(32);
        const data = locals.get(key) ?? check.preimages.byKey.get(key);
        if (!data) {
          child.kill();
          reject(new Error(`guest asked for an unknown preimage ${key}`));
          return;
        }
        const frame = Buffer.alloc(8 + data.length);
        frame.writeBigUInt64BE(BigInt(data.length), 0);
        frame.set(data, 8);
        toGuest.write(frame);
      }
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
  });
}
