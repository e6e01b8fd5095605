/**
 * `oao vm …`: run guest programs in the fraud-proof VM and print step witnesses.
 *
 *   oao vm run FILE.elf [--max-steps N] [--max-memory SIZE] [--json] [--keccak FILE]... [--local ID=HEX]...
 *   oao vm prove FILE.elf --step N [--caller ADDR --local-context HEX] [--keccak FILE]... [--local ID=HEX]...
 *
 * Exit status of `run`: the guest's exit code when it exits; 124 when it does not exit within
 * --max-steps; 125 when a step fails (invalid instruction, trap, missing preimage …) or the guest needs more memory
 * than --max-memory (default 1 GiB).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import {
  type Hex,
  MapPreimageSource,
  Trace,
  VmError,
  VmMemoryLimitError,
  VmStepError,
  fromHex,
  loadElf,
  runFast,
  statusOfHash,
  toHex,
  witnessToJson,
} from "../../vm/index.ts";

export const EXIT_NOT_FINISHED = 124;
export const EXIT_VM_FAILURE = 125;
const STATUS_NAMES = ["valid", "invalid", "panic", "unfinished"] as const;

function parseCount(name: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} is too large: ${value}`);
    return n;
  };
}

/** Default memory cap of `oao vm run`: 1 GiB of guest pages. */
export const DEFAULT_MAX_MEMORY = 1 << 30;

/** "1GiB", "512MiB", "64KiB", "4096" (bytes) → bytes: a positive multiple of the 4 KiB page, at most 4 GiB. */
export function parseMemorySize(value: string): number {
  const m = /^(\d+)\s*(B|KiB|MiB|GiB)?$/i.exec(value.trim());
  if (m === null) throw new InvalidArgumentError(`--max-memory takes a size like 1GiB, 512MiB or a number of bytes, got "${value}"`);
  const unit = ({ b: 1, kib: 1 << 10, mib: 1 << 20, gib: 1 << 30 } as Record<string, number>)[(m[2] ?? "b").toLowerCase()]!;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 4096 || bytes > 2 ** 32) throw new InvalidArgumentError(`--max-memory must be between 4KiB and 4GiB (the guest's address space), got "${value}"`);
  if (bytes % 4096 !== 0) throw new InvalidArgumentError(`--max-memory must be a whole number of 4 KiB pages, got "${value}" (${bytes} bytes)`);
  return bytes;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface PreimageOptions {
  keccak: string[];
  local: string[];
}

function preimagesFrom(opts: PreimageOptions): MapPreimageSource {
  const source = new MapPreimageSource();
  for (const file of opts.keccak) {
    const key = source.addKeccak(readFileSync(file));
    process.stderr.write(`preimage ${file} -> key ${toHex(key)}\n`);
  }
  for (const spec of opts.local) {
    const m = /^(\d+)=(0x[0-9a-fA-F]*)$/.exec(spec);
    if (m === null) throw new InvalidArgumentError(`--local takes ID=0xHEX (e.g. 2=0x00000007), got "${spec}"`);
    source.setLocal(BigInt(m[1]!), fromHex(m[2]!));
  }
  return source;
}

function readElf(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function addPreimageOptions(cmd: Command): Command {
  return cmd
    .option("--keccak <file>", "serve this file's bytes under its keccak key (repeatable)", collect, [])
    .option("--local <id=hex>", "serve local datum ID (repeatable), e.g. 2=0x00000007", collect, []);
}

function runCommand(): Command {
  const cmd = new Command("run")
    .description("run a guest program to its exit (fast mode)")
    .argument("<file>", "static big-endian MIPS32 ELF")
    .addOption(new Option("--max-steps <n>", "give up after this many steps").argParser(parseCount("--max-steps")).default(1_000_000_000))
    .addOption(new Option("--max-memory <size>", "stop when the guest needs more memory than this (e.g. 512MiB, 2GiB)").argParser(parseMemorySize).default(DEFAULT_MAX_MEMORY, "1GiB"))
    .option("--json", "print one JSON object as the last line of stdout");
  addPreimageOptions(cmd);
  return cmd.action((file: string, opts: PreimageOptions & { maxSteps: number; maxMemory: number; json?: boolean }) => {
    const machine = loadElf(readElf(file), { preimages: preimagesFrom(opts) });
    machine.memory.maxPages = opts.maxMemory / 4096;
    if (machine.memory.pageCount > machine.memory.maxPages) {
      throw new InvalidArgumentError(`${file}: its image alone takes ${machine.memory.pageCount} pages of 4 KiB, more than --max-memory allows (${machine.memory.maxPages})`);
    }
    const started = performance.now();
    let failure: VmStepError | VmMemoryLimitError | undefined;
    try {
      while (!machine.exited && machine.step < opts.maxSteps) {
        runFast(machine, Math.min(opts.maxSteps - machine.step, 1 << 28));
      }
    } catch (e) {
      if (!(e instanceof VmStepError) && !(e instanceof VmMemoryLimitError)) throw e;
      failure = e;
    }
    const seconds = (performance.now() - started) / 1000;
    const stateHash: Hex = machine.stateHash();
    const stdout = machine.stdout.text();
    const stderr = machine.stderr.text();
    const stepsPerSecond = seconds > 0 ? Math.round(machine.step / seconds) : 0;
    const summary = {
      exited: machine.exited,
      exitCode: machine.exited ? machine.exitCode : null,
      status: STATUS_NAMES[statusOfHash(stateHash)],
      steps: machine.step.toString(),
      stdout,
      stderr,
      stateHash,
      stepsPerSecond,
      error: failure?.message ?? null,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stdout.write(stdout);
      process.stderr.write(stderr);
    }
    if (failure !== undefined) {
      const hint = failure instanceof VmMemoryLimitError ? " (raise --max-memory)" : "";
      process.stderr.write(`oao vm: step ${machine.step} failed: ${failure.message}${hint}\n`);
      process.exitCode = EXIT_VM_FAILURE;
    } else if (!machine.exited) {
      process.stderr.write(`oao vm: ${file} did not exit within ${opts.maxSteps} steps (raise --max-steps)\n`);
      process.exitCode = EXIT_NOT_FINISHED;
    } else {
      process.stderr.write(
        `oao vm: exit ${machine.exitCode} (${summary.status}) after ${machine.step} steps, ` +
          `${(stepsPerSecond / 1e6).toFixed(1)}M steps/s, state ${stateHash}\n`,
      );
      process.exitCode = machine.exitCode;
    }
  });
}

function proveCommand(): Command {
  const cmd = new Command("prove")
    .description("print the witness of one step as JSON (what MIPS.step takes, and the post-state hash)")
    .argument("<file>", "static big-endian MIPS32 ELF")
    .requiredOption("--step <n>", "the step to prove (the pre-state has step counter n)", parseCount("--step"))
    .option("--caller <address>", "the contract that calls MIPS.step (localizes local preimage keys)")
    .option("--local-context <hex>", "its 32-byte local context");
  addPreimageOptions(cmd);
  return cmd.action((file: string, opts: PreimageOptions & { step: number; caller?: string; localContext?: string }) => {
    if ((opts.caller === undefined) !== (opts.localContext === undefined)) {
      throw new InvalidArgumentError("--caller and --local-context go together");
    }
    const localContext =
      opts.caller !== undefined ? { caller: opts.caller as Hex, localContext: opts.localContext as Hex } : undefined;
    const trace = Trace.fromElf(readElf(file), { preimages: preimagesFrom(opts), localContext });
    try {
      const witness = trace.witness(opts.step);
      process.stdout.write(`${JSON.stringify(witnessToJson(witness))}\n`);
    } catch (e) {
      if (e instanceof VmError) {
        process.stderr.write(`oao vm: cannot prove step ${opts.step}: ${e.message}\n`);
        process.exitCode = EXIT_VM_FAILURE;
        return;
      }
      throw e;
    }
  });
}

export function vmCommand(): Command {
  return new Command("vm")
    .description("the fraud-proof MIPS VM: run guest programs, prove steps")
    .addCommand(runCommand())
    .addCommand(proveCommand());
}
