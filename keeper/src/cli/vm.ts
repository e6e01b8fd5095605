/**
 * `oao vm …`: run guest programs in the fraud-proof VM and print step witnesses.
 *
 *   oao vm run FILE.elf [--max-steps N] [--json] [--keccak FILE]... [--local ID=HEX]...
 *   oao vm prove FILE.elf --step N [--caller ADDR --local-context HEX] [--keccak FILE]... [--local ID=HEX]...
 *
 * Exit status of `run`: the guest's exit code when it exits; 124 when it does not exit within
 * --max-steps; 125 when a step fails (invalid instruction, trap, missing preimage …).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import {
  type Hex,
  MapPreimageSource,
  Trace,
  VmError,
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
    .option("--json", "print one JSON object as the last line of stdout");
  addPreimageOptions(cmd);
  return cmd.action((file: string, opts: PreimageOptions & { maxSteps: number; json?: boolean }) => {
    const machine = loadElf(readElf(file), { preimages: preimagesFrom(opts) });
    const started = performance.now();
    let failure: VmStepError | undefined;
    try {
      while (!machine.exited && machine.step < opts.maxSteps) {
        runFast(machine, Math.min(opts.maxSteps - machine.step, 1 << 28));
      }
    } catch (e) {
      if (!(e instanceof VmStepError)) throw e;
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
      process.stderr.write(`oao vm: step ${machine.step} failed: ${failure.message}\n`);
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
