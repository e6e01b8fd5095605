/**
 * Guest VM steps per multiply-accumulate (issue 16; docs/benchmarks.md "Guest: VM steps per
 * multiply-accumulate"): `npm run bench:guest-steps -- [--json] [--quick] [--elf FILE]`.
 *
 * For each op and shape, a one-node model (keeper/graph) is checked by the node program
 * (keeper/guest/build/oao_node.elf) in keeper/vm fast mode:
 * - `check`: the VM steps of the whole node check (fetching and hashing the inputs, the kernel,
 *   hashing the output): what a dispute's VM trace must cover;
 * - `kernel`: the steps of the kernel alone: the same check minus the same check run on a copy of
 *   the ELF whose kernel function (the `gemm`, `matmul` or `conv2d` symbol) returns at once
 *   (`jr $ra; nop` at its entry). Everything else the guest does takes the same path whatever the
 *   output values (the output hash is compared last), so the difference is the kernel's.
 * Both divided by the node's multiply-accumulates. The zero points are non-zero on both operands
 * (the kernels' most expensive path).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runElf } from "../keeper/vm/index.ts";
import { preimageSource } from "../keeper/guest/node/vm.ts";
import { Executor } from "../keeper/graph/executor.ts";
import { seededRandom } from "../keeper/graph/fixtures.ts";
import { buildModel } from "../keeper/graph/model.ts";
import { Op, inputSlot, weightSlot, OP_NAMES } from "../keeper/graph/ops.ts";
import { nodeCheck } from "../keeper/graph/preimages.ts";
import { DType, int32Tensor, int8Tensor, type Tensor } from "../keeper/graph/tensor.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const elfArg = args.indexOf("--elf");
const elfPath = elfArg >= 0 && args[elfArg + 1] ? resolve(args[elfArg + 1]!) : resolve(repo, "keeper/guest/build/oao_node.elf");
const log = (s: string) => console.error(s);

/** The value and size of each function symbol of a big-endian ELF32 (its .symtab), and the file offset of an address. */
function elfFunctions(elf: Uint8Array): { fn: Map<string, { addr: number; size: number }>; fileOffset: (addr: number) => number } {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (dv.getUint32(0) !== 0x7f454c46 || elf[4] !== 1 || elf[5] !== 2) throw new Error(`${elfPath}: not a big-endian ELF32 file`);
  const shoff = dv.getUint32(32), shentsize = dv.getUint16(46), shnum = dv.getUint16(48);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return { type: dv.getUint32(o + 4), addr: dv.getUint32(o + 12), offset: dv.getUint32(o + 16), size: dv.getUint32(o + 20), link: dv.getUint32(o + 24), entsize: dv.getUint32(o + 36) };
  });
  const symtab = sections.find((s) => s.type === 2);
  if (symtab === undefined) throw new Error(`${elfPath}: no .symtab (a stripped ELF cannot be measured per kernel)`);
  const strtab = sections[symtab.link]!;
  const fn = new Map<string, { addr: number; size: number }>();
  for (let o = symtab.offset; o < symtab.offset + symtab.size; o += symtab.entsize) {
    if ((elf[o + 12]! & 0xf) !== 2) continue; // STT_FUNC
    let end = strtab.offset + dv.getUint32(o);
    const start = end;
    while (elf[end] !== 0) end++;
    fn.set(new TextDecoder().decode(elf.subarray(start, end)), { addr: dv.getUint32(o + 4), size: dv.getUint32(o + 8) });
  }
  const fileOffset = (addr: number) => {
    const s = sections.find((x) => x.type === 1 && addr >= x.addr && addr < x.addr + x.size);
    if (s === undefined) throw new Error(`address 0x${addr.toString(16)} is in no PROGBITS section`);
    return addr - s.addr + s.offset;
  };
  return { fn, fileOffset };
}

/** A copy of the ELF whose function `name` returns at once. */
function withoutKernel(elf: Uint8Array, name: string): Uint8Array {
  const { fn, fileOffset } = elfFunctions(elf);
  const f = fn.get(name);
  if (f === undefined) throw new Error(`the ELF has no function symbol "${name}" (inlined? it must stay a function for this measurement)`);
  const out = elf.slice();
  const dv = new DataView(out.buffer);
  dv.setUint32(fileOffset(f.addr), 0x03e00008); // jr $ra
  dv.setUint32(fileOffset(f.addr) + 4, 0); // nop (delay slot)
  return out;
}

interface Case {
  name: string;
  op: Op;
  kernel: string;
  macs: number;
  inputs: Tensor[];
  outShape: number[];
  attrs: number[];
}

function i8(rand: () => number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return int8Tensor(shape, Array.from({ length: n }, () => Math.floor(rand() * 256) - 128));
}
function bias(rand: () => number, n: number): Tensor {
  return int32Tensor([n], Array.from({ length: n }, () => Math.floor(rand() * 20001) - 10000));
}
const RQ = [1_518_500_250, 38] as const;

function gemm(rand: () => number, name: string, M: number, K: number, N: number): Case {
  return { name: `${name} ${M}×${K} · (${N}×${K})ᵀ`, op: Op.Gemm, kernel: "gemm", macs: M * K * N, inputs: [i8(rand, [M, K]), i8(rand, [N, K]), bias(rand, N)], outShape: [M, N], attrs: [3, -5, ...RQ, 1, -128, 127] };
}
/** The wide form (§3.6): int32 x (±8191) and w (±2047), zero points 0, as `oao model import --wide` makes them. */
function gemmWide(rand: () => number, name: string, M: number, K: number, N: number): Case {
  const i32 = (shape: number[], mag: number) => int32Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rand() * (2 * mag + 1)) - mag));
  return { name: `${name} ${M}×${K} · (${N}×${K})ᵀ`, op: Op.Gemm, kernel: "gemm_wide", macs: M * K * N, inputs: [i32([M, K], 8191), i32([N, K], 2047), bias(rand, N)], outShape: [M, N], attrs: [0, 0, ...RQ, 0, -128, 127] };
}
function matmul(rand: () => number, name: string, B: number, M: number, K: number, N: number, tb: 0 | 1, wide = false): Case {
  const i32 = (shape: number[], mag: number) => int32Tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rand() * (2 * mag + 1)) - mag));
  const operand = (shape: number[]) => (wide ? i32(shape, 8191) : i8(rand, shape));
  if (wide) {
    return {
      name: `${name} ${B}×${M}×${K} · ${tb ? `(${B}×${N}×${K})ᵀ` : `${B}×${K}×${N}`}`,
      op: Op.MatMul,
      kernel: "matmul_wide",
      macs: B * M * K * N,
      inputs: [operand([B, M, K]), operand(tb ? [B, N, K] : [B, K, N])],
      outShape: [B, M, N],
      attrs: [0, 0, ...RQ, 0, -128, 127, tb],
    };
  }
  return {
    name: `${name} ${B}×${M}×${K} · ${tb ? `(${B}×${N}×${K})ᵀ` : `${B}×${K}×${N}`}`,
    op: Op.MatMul,
    kernel: "matmul",
    macs: B * M * K * N,
    inputs: [i8(rand, [B, M, K]), i8(rand, tb ? [B, N, K] : [B, K, N])],
    outShape: [B, M, N],
    attrs: [3, -5, ...RQ, 1, -128, 127, tb],
  };
}
function conv(rand: () => number, name: string, C: number, H: number, W: number, O: number, k: number, pad: number, group = 1, stride = 1): Case {
  const OH = Math.floor((H + 2 * pad - k) / stride) + 1, OW = Math.floor((W + 2 * pad - k) / stride) + 1, Cg = C / group;
  return {
    name: `${name} 1×${C}×${H}×${W}, ${O}×${Cg}×${k}×${k}, pad ${pad}${stride > 1 ? `, stride ${stride}` : ""}${group > 1 ? `, ${group} groups` : ""}`,
    op: Op.Conv2D,
    kernel: "conv2d",
    macs: O * OH * OW * Cg * k * k, // every tap, padding included (a padding tap is a multiply by x - xz = 0)
    inputs: [i8(rand, [1, C, H, W]), i8(rand, [O, Cg, k, k]), bias(rand, O)],
    outShape: [1, O, OH, OW],
    attrs: [3, -5, ...RQ, 1, -128, 127, stride, stride, pad, pad, pad, pad, 1, 1, group],
  };
}

function cases(): Case[] {
  const rand = seededRandom(16);
  const list: Case[] = [
    gemm(rand, "MNIST layer 1, batch 1:", 1, 784, 96),
    gemm(rand, "MNIST layer 2, batch 1:", 1, 96, 10),
    gemm(rand, "odd tails:", 7, 129, 13),
    gemm(rand, "text_lm's largest node (MLP up of the prefill):", 128, 192, 768),
    gemmWide(rand, "the same, wide (int32 x and w, `--wide`):", 128, 192, 768),
    matmul(rand, "attention scores QKᵀ (transB):", 4, 128, 48, 128, 1),
    matmul(rand, "attention · V:", 4, 128, 128, 48, 0),
    matmul(rand, "attention scores, wide (int32 q, k):", 4, 128, 48, 128, 1, true),
    matmul(rand, "attention · V, wide (int32 probabilities, v):", 4, 128, 128, 48, 0, true),
    conv(rand, "Conv2D:", 1, 28, 28, 8, 3, 1),
    conv(rand, "Conv2D:", 8, 14, 14, 16, 3, 1),
    conv(rand, "Conv2D:", 16, 7, 7, 16, 5, 0),
    conv(rand, "Conv2D depthwise:", 16, 7, 7, 16, 1, 0, 16),
    conv(rand, "Conv2D depthwise:", 16, 13, 13, 16, 3, 1, 16, 2),
  ];
  if (!quick) list.push(gemm(rand, "GPT-2 small's largest Gemm (MLP up):", 64, 768, 3072));
  return list;
}

interface Row {
  name: string;
  op: string;
  macs: number;
  checkSteps: number;
  kernelSteps: number;
  checkStepsPerMac: number;
  kernelStepsPerMac: number;
}

function main(): void {
  const elf = new Uint8Array(readFileSync(elfPath));
  const stubs = new Map<string, Uint8Array>();
  const rows: Row[] = [];
  for (const c of cases()) {
    const model = buildModel({
      input: { dtype: c.inputs[0]!.dtype, shape: c.inputs[0]!.shape },
      weights: c.inputs.slice(1),
      nodes: [{ op: c.op, inputs: [inputSlot(), ...c.inputs.slice(1).map((_, j) => weightSlot(j))], outDtype: DType.int8, outShape: c.outShape, attrs: c.attrs }],
      metadata: { name: "steps", input: { scale: 1, zeroPoint: 0 }, output: { scale: 1, zeroPoint: 0 } },
    });
    const check = nodeCheck(model, c.inputs[0]!, new Executor(model).run(c.inputs[0]!).nodeOutputs, 1);
    const full = runElf(elf, { preimages: preimageSource(check) });
    if (!full.exited || full.exitCode !== 0) throw new Error(`${c.name}: the guest's check did not exit VALID (exit ${full.exitCode})`);
    if (!stubs.has(c.kernel)) stubs.set(c.kernel, withoutKernel(elf, c.kernel));
    const rest = runElf(stubs.get(c.kernel)!, { preimages: preimageSource(check) });
    if (!rest.exited) throw new Error(`${c.name}: the check without the kernel did not exit`);
    const row: Row = {
      name: c.name,
      op: OP_NAMES[c.op]!,
      macs: c.macs,
      checkSteps: full.steps,
      kernelSteps: full.steps - rest.steps,
      checkStepsPerMac: full.steps / c.macs,
      kernelStepsPerMac: (full.steps - rest.steps) / c.macs,
    };
    rows.push(row);
    log(`${row.name}: ${row.checkSteps} steps (${row.checkStepsPerMac.toFixed(2)}/MAC), kernel ${row.kernelSteps} (${row.kernelStepsPerMac.toFixed(2)}/MAC)`);
  }
  const fmt = (n: number) => n.toLocaleString("en-US");
  console.log("| op, shape | MACs | node check: VM steps | steps / MAC | kernel: VM steps | steps / MAC |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.macs)} | ${fmt(r.checkSteps)} | ${r.checkStepsPerMac.toFixed(2)} | ${fmt(r.kernelSteps)} | ${r.kernelStepsPerMac.toFixed(2)} |`);
  if (json) console.log(JSON.stringify({ elf: elfPath, rows }));
}

main();
