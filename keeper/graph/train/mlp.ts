/**
 * A small float MLP (dense layers, ReLU between them, softmax cross-entropy) trained with
 * mini-batch SGD + momentum from a fixed seed. Training is not committed computation: floats are
 * fine here; the result is quantized (quantize.ts) before it becomes a model.
 */
import { seededRandom } from "../fixtures.ts";

export interface DenseLayer {
  inSize: number;
  outSize: number;
  /** row-major [outSize][inSize] */
  w: Float64Array;
  b: Float64Array;
}

export interface Mlp {
  layers: DenseLayer[];
}

export interface TrainOptions {
  sizes: number[];
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  seed: number;
}

export interface TrainSample {
  pixels: Float64Array;
  label: number;
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Forward pass; returns every layer's activations (post-ReLU for hidden layers, logits for the last). */
export function forward(mlp: Mlp, x: Float64Array): Float64Array[] {
  const acts: Float64Array[] = [x];
  let cur = x;
  mlp.layers.forEach((L, li) => {
    const out = new Float64Array(L.outSize);
    for (let j = 0; j < L.outSize; j++) {
      let s = L.b[j]!;
      const row = j * L.inSize;
      for (let i = 0; i < L.inSize; i++) {
        const v = cur[i]!;
        if (v !== 0) s += L.w[row + i]! * v;
      }
      out[j] = li < mlp.layers.length - 1 && s < 0 ? 0 : s;
    }
    acts.push(out);
    cur = out;
  });
  return acts;
}

export function predict(mlp: Mlp, x: Float64Array): number {
  const acts = forward(mlp, x);
  return argmax(acts[acts.length - 1]!);
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export function trainMlp(data: readonly TrainSample[], opt: TrainOptions, log?: (msg: string) => void): Mlp {
  const rand = seededRandom(opt.seed);
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < opt.sizes.length; l++) {
    const inSize = opt.sizes[l]!, outSize = opt.sizes[l + 1]!;
    const std = Math.sqrt(2 / inSize);
    const w = new Float64Array(inSize * outSize);
    for (let i = 0; i < w.length; i++) w[i] = gaussian(rand) * std;
    layers.push({ inSize, outSize, w, b: new Float64Array(outSize) });
  }
  const mlp = { layers };
  const vw = layers.map((L) => new Float64Array(L.w.length));
  const vb = layers.map((L) => new Float64Array(L.b.length));
  const gw = layers.map((L) => new Float64Array(L.w.length));
  const gb = layers.map((L) => new Float64Array(L.b.length));
  const order = data.map((_, i) => i);
  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const lr = opt.lr * (epoch < opt.epochs / 2 ? 1 : epoch < (3 * opt.epochs) / 4 ? 0.3 : 0.1);
    let loss = 0;
    for (let start = 0; start < order.length; start += opt.batch) {
      const end = Math.min(start + opt.batch, order.length);
      gw.forEach((g) => g.fill(0));
      gb.forEach((g) => g.fill(0));
      for (let t = start; t < end; t++) {
        const s = data[order[t]!]!;
        const acts = forward(mlp, s.pixels);
        const logits = acts[acts.length - 1]!;
        const mx = Math.max(...logits);
        let z = 0;
        const p = logits.map((v) => Math.exp(v - mx));
        for (const v of p) z += v;
        let delta = p.map((v) => v / z);
        loss -= Math.log(Math.max(delta[s.label]!, 1e-12));
        delta[s.label]! -= 1;
        for (let l = layers.length - 1; l >= 0; l--) {
          const L = layers[l]!;
          const x = acts[l]!;
          const gW = gw[l]!, gB = gb[l]!;
          const prev = new Float64Array(L.inSize);
          for (let j = 0; j < L.outSize; j++) {
            const dj = delta[j]!;
            if (dj === 0) continue;
            gB[j]! += dj;
            const row = j * L.inSize;
            for (let i = 0; i < L.inSize; i++) {
              const v = x[i]!;
              if (v !== 0) gW[row + i]! += dj * v;
              if (l > 0) prev[i]! += L.w[row + i]! * dj;
            }
          }
          if (l > 0) for (let i = 0; i < L.inSize; i++) if (x[i]! <= 0) prev[i] = 0; // ReLU'
          delta = prev;
        }
      }
      const scale = lr / (end - start);
      layers.forEach((L, l) => {
        const VW = vw[l]!, VB = vb[l]!, GW = gw[l]!, GB = gb[l]!;
        for (let i = 0; i < L.w.length; i++) {
          VW[i] = opt.momentum * VW[i]! - scale * GW[i]!;
          L.w[i]! += VW[i]!;
        }
        for (let i = 0; i < L.b.length; i++) {
          VB[i] = opt.momentum * VB[i]! - scale * GB[i]!;
          L.b[i]! += VB[i]!;
        }
      });
    }
    log?.(`epoch ${epoch + 1}/${opt.epochs}: loss ${(loss / order.length).toFixed(4)}`);
  }
  return mlp;
}
