/**
 * Reproducible build of the guest programs (docs/protocol.md §4.7; toolchain in
 * /work/shared/TOOLCHAIN.md): every `*.c` / `*.S` file under keeper/guest/tests/ (and
 * keeper/guest/programs/ when it exists) becomes keeper/guest/build/<name>.elf, linked with the
 * runtime (crt0.S, oao_runtime.c) and link.ld. keeper/guest/build/hashes.json records the sha256
 * of each ELF; the ELFs are committed so that nothing else needs a compiler.
 *
 * Run: `npm run build:guest` (or `tsx keeper/guest/build.ts [--out DIR] [--check]`). With
 * `--check` it builds into a temporary folder and fails if any hash differs from hashes.json.
 *
 * When qemu-mips is installed, the build also records build/expected.json: the exit code and
 * stdout of every test program (tests/) under qemu-mips, the reference the VM tests compare with.
 * Test programs whose source starts with a `vm-only` comment (they use the VM's oracle
 * descriptors, or trap) are left out.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const GUEST_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(GUEST_DIR, "..", "..");
export const GUEST_BUILD_DIR = join(GUEST_DIR, "build");
const SOURCE_DIRS = ["tests", "programs"];

/** Compiler flags: freestanding big-endian MIPS32 for the VM of §4. */
export const CLANG_FLAGS = [
  "--target=mips-unknown-elf",
  "-march=mips32",
  "-mabi=32",
  "-O2",
  "-G0",
  "-ffreestanding",
  "-nostdlib",
  "-fno-pic",
  "-mno-abicalls",
  "-msoft-float",
  "-fomit-frame-pointer",
  // `div` by zero fails the step (§4.4); the guest guards its divisors instead of clang adding
  // `teq` checks after every division.
  "-mno-check-zero-division",
  "-fno-builtin",
  "-fno-stack-protector",
  "-fno-asynchronous-unwind-tables",
  "-fno-unwind-tables",
  "-fno-ident",
  "-g0",
  "-std=c11",
  "-Wall",
  "-Wextra",
  "-Werror",
  `-ffile-prefix-map=${REPO_ROOT}/=`,
];

export const LD_FLAGS = ["-m", "elf32btsmip", "-static", "--build-id=none", "--no-rosegment"];

export interface GuestProgram {
  name: string;
  /** Path relative to the repository root. */
  source: string;
  /** Runs only in the VM (marked `vm-only` in its first line), not under qemu-mips. */
  vmOnly: boolean;
  /** `tests` (instruction test programs) or `programs` (shipped guest programs). */
  kind: "tests" | "programs";
}

/** What a program did under qemu-mips. */
export interface ExpectedRun {
  exitCode: number;
  stdout: string;
}

export function findClang(): string | undefined {
  for (const candidate of ["clang-14", "clang"]) {
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" });
      if (/clang version 14\./.test(version)) return candidate;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

export function findLld(): string | undefined {
  for (const candidate of ["ld.lld-14", "ld.lld"]) {
    try {
      execFileSync(candidate, ["--version"], { encoding: "utf8" });
      return candidate;
    } catch {
      // not installed under this name
    }
  }
  return undefined;
}

export function listGuestPrograms(): GuestProgram[] {
  const programs: GuestProgram[] = [];
  for (const dir of SOURCE_DIRS) {
    const abs = join(GUEST_DIR, dir);
    if (!existsSync(abs)) continue;
    for (const file of readdirSync(abs).sort()) {
      const ext = extname(file);
      if (ext !== ".c" && ext !== ".S") continue;
      const firstLine = readFileSync(join(abs, file), "utf8").split("\n", 1)[0] ?? "";
      programs.push({
        name: basename(file, ext),
        source: relative(REPO_ROOT, join(abs, file)),
        vmOnly: /\bvm-only\b/.test(firstLine),
        kind: dir as "tests" | "programs",
      });
    }
  }
  const names = new Set<string>();
  for (const p of programs) {
    if (names.has(p.name)) throw new Error(`two guest sources are both named "${p.name}": rename one`);
    names.add(p.name);
  }
  return programs;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Builds every guest program into outDir; returns name -> sha256 of the ELF. */
export function buildGuestPrograms(outDir: string, clang: string, lld: string): Record<string, string> {
  const runtime = relative(REPO_ROOT, join(GUEST_DIR, "runtime"));
  const objDir = mkdtempSync(join(tmpdir(), "oao-guest-"));
  const hashes: Record<string, string> = {};
  try {
    const compile = (source: string, object: string): void => {
      execFileSync(clang, [...CLANG_FLAGS, "-I", runtime, "-c", source, "-o", object], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "inherit", "inherit"],
      });
    };
    const crt0 = join(objDir, "crt0.o");
    const rt = join(objDir, "oao_runtime.o");
    compile(join(runtime, "crt0.S"), crt0);
    compile(join(runtime, "oao_runtime.c"), rt);
    mkdirSync(outDir, { recursive: true });
    for (const program of listGuestPrograms()) {
      const object = join(objDir, `${program.name}.o`);
      compile(program.source, object);
      const elf = join(outDir, `${program.name}.elf`);
      execFileSync(lld, [...LD_FLAGS, "-T", join(runtime, "link.ld"), crt0, object, rt, "-o", elf], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "inherit", "inherit"],
      });
      hashes[program.name] = sha256(readFileSync(elf));
    }
  } finally {
    rmSync(objDir, { recursive: true, force: true });
  }
  return hashes;
}

export function findQemu(): string | undefined {
  try {
    execFileSync("qemu-mips", ["-version"], { encoding: "utf8" });
    return "qemu-mips";
  } catch {
    return undefined;
  }
}

/** Runs a program under qemu-mips: exit code (128 + signal if killed) and stdout. */
export function runUnderQemu(qemu: string, elf: string): ExpectedRun {
  const result = spawnSync(qemu, [elf], { encoding: "utf8", timeout: 60_000 });
  if (result.error !== undefined) throw result.error;
  const exitCode = result.status ?? 128 + (osConstants.signals[result.signal as NodeJS.Signals] ?? 0);
  return { exitCode, stdout: result.stdout };
}

export function recordExpected(qemu: string, dir: string): Record<string, ExpectedRun> {
  const expected: Record<string, ExpectedRun> = {};
  for (const p of listGuestPrograms()) {
    if (p.kind === "tests" && !p.vmOnly) expected[p.name] = runUnderQemu(qemu, join(dir, `${p.name}.elf`));
  }
  writeFileSync(join(dir, "expected.json"), JSON.stringify(expected, null, 2) + "\n");
  return expected;
}

export function readExpected(): Record<string, ExpectedRun> {
  return JSON.parse(readFileSync(join(GUEST_BUILD_DIR, "expected.json"), "utf8")) as Record<string, ExpectedRun>;
}

export function readCommittedHashes(): Record<string, string> {
  return JSON.parse(readFileSync(join(GUEST_BUILD_DIR, "hashes.json"), "utf8")) as Record<string, string>;
}

function main(argv: string[]): void {
  const clang = findClang();
  const lld = findLld();
  if (clang === undefined || lld === undefined) {
    console.error("build-guest: needs clang 14 and ld.lld (Debian: apt-get install clang lld)");
    process.exit(1);
  }
  const check = argv.includes("--check");
  const outIndex = argv.indexOf("--out");
  const outDir =
    outIndex >= 0 && argv[outIndex + 1] !== undefined
      ? resolve(argv[outIndex + 1] as string)
      : check
        ? mkdtempSync(join(tmpdir(), "oao-guest-check-"))
        : GUEST_BUILD_DIR;
  const hashes = buildGuestPrograms(outDir, clang, lld);
  if (check) {
    const committed = readCommittedHashes();
    const names = new Set([...Object.keys(committed), ...Object.keys(hashes)]);
    const bad = [...names].sort().filter((n) => committed[n] !== hashes[n]);
    rmSync(outDir, { recursive: true, force: true });
    if (bad.length > 0) {
      console.error(`build-guest: ELFs differ from keeper/guest/build/hashes.json: ${bad.join(", ")}`);
      console.error("rebuild with `npm run build:guest` and commit keeper/guest/build/");
      process.exit(1);
    }
    console.error(`build-guest: ${names.size} programs reproduce their committed hashes`);
    return;
  }
  if (outDir === GUEST_BUILD_DIR) {
    // Remove ELFs of programs that no longer exist.
    for (const file of readdirSync(outDir)) {
      if (file.endsWith(".elf") && hashes[basename(file, ".elf")] === undefined) rmSync(join(outDir, file));
    }
  }
  const sorted = Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(join(outDir, "hashes.json"), JSON.stringify(sorted, null, 2) + "\n");
  console.error(`build-guest: built ${Object.keys(hashes).length} programs into ${relative(REPO_ROOT, outDir) || outDir}`);
  const qemu = findQemu();
  if (qemu === undefined) console.error("build-guest: qemu-mips not found: expected.json left as it is");
  else recordExpected(qemu, outDir);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
