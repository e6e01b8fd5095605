#!/usr/bin/python3
"""
PyTorch's side of the text-generation speed benchmark (issue 15; docs/benchmarks.md): greedy
generation with the trained float model of keeper/models/text_lm, one thread, on this machine. Needs
Debian's python3-torch and python3-onnx (never CI). The TypeScript side (our int8 generation graph and
onnxruntime-node) is scripts/models/bench_text_gen.ts; run both on the same quiet machine.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/models/bench_text_gen.py [--tokens 64] [--prompts 8] [--json]

The weights are read back from the committed ONNX export (torch.onnx.export keeps the parameter names
of embeddings, biases and norms; the transposed Linear weights and the position-embedding slice are
anonymous initializers in graph order), and the loaded model is checked against the float logits the
training run stored in fixture.json before anything is timed.

Two ways PyTorch users generate, both timed:
- `full`: nanoGPT's `generate()` — one full forward pass over the sequence so far per new token;
- `cached`: a key/value cache (each new token costs one row of work), written here over the same
  modules, checked to produce the same tokens as `full`.
Every prompt is `--prompt-bytes` held-out bytes; exactly `--tokens` tokens are generated (no early stop,
so all three engines do the same work).
"""
import argparse
import json
import math
import os
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIR = os.path.join(ROOT, "keeper", "models", "text_lm")
FX = json.load(open(os.path.join(DIR, "fixture.json")))
os.environ["OAO_LM_CONTEXT"] = str(FX["context"])
os.environ["OAO_LM_WIDTH"] = str(FX["width"])
os.environ["OAO_LM_LAYERS"] = str(FX["layers"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import export_transformers as et  # noqa: E402

T = et.T


def load_model():
    torch.set_num_threads(1)
    model = et.CharGpt()
    inits = onnx.load(os.path.join(DIR, "text_lm.onnx")).graph.initializer
    named = {i.name: numpy_helper.to_array(i) for i in inits if not i.name.startswith("onnx::")}
    anon = [(i.name, numpy_helper.to_array(i)) for i in inits if i.name.startswith("onnx::")]
    sd = model.state_dict()
    new = {}
    for k in sd:
        if k in named:
            new[k] = torch.tensor(named[k])
    # anonymous initializers, graph order: wpe[:T] (an Add), then per layer c_attn, attn.c_proj, c_fc, mlp.c_proj
    # (MatMul, transposed), then the tied head (wte transposed)
    adds = [a for n, a in anon if n.startswith("onnx::Add_")]
    mats = [a for n, a in anon if n.startswith("onnx::MatMul_")]
    if len(adds) != 1 or len(mats) != 4 * et.LAYERS + 1 or not np.array_equal(mats[-1].T, named["wte.weight"]):
        raise SystemExit("unexpected ONNX initializers: %d Add, %d MatMul" % (len(adds), len(mats)))
    new["wpe.weight"] = torch.tensor(adds[0])
    for i in range(et.LAYERS):
        for j, name in enumerate(["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]):
            new["h.%d.%s.weight" % (i, name)] = torch.tensor(mats[4 * i + j].T.copy())
    for k in sd:
        if k.endswith(".attn.bias"):
            new[k] = sd[k]  # the causal mask buffer
    new["lm_head.weight"] = new["wte.weight"]
    missing = [k for k in sd if k not in new]
    if missing:
        raise SystemExit("weights not found in the ONNX file: %s" % missing)
    model.load_state_dict(new)
    model.eval()
    # check against the training run's own float logits
    worst = 0.0
    with torch.no_grad():
        for p in FX["prompts"]:
            ids = p["ids"]
            row = model(torch.tensor([ids + [0] * (T - len(ids))]))[0, len(ids) - 1]
            worst = max(worst, float((row - torch.tensor(p["logits"])).abs().max()))
    if worst > 1e-3:
        raise SystemExit("the model read back from the ONNX file differs from fixture.json's logits by %g" % worst)
    return model


def gen_full(model, ids, n):
    seq = list(ids)
    with torch.no_grad():
        for _ in range(n):
            y = model(torch.tensor([seq[-T:]]))
            seq.append(int(y[0, -1].argmax()))
    return seq[len(ids):]


def gen_cached(model, ids, n):
    """Greedy generation with a per-layer key/value cache over CharGpt's own modules."""
    H, D = et.HEADS, et.D
    dh = D // H
    caches = [([], []) for _ in model.h]
    out = []
    with torch.no_grad():
        def step(tok_ids, start):
            L = len(tok_ids)
            x = model.wte(torch.tensor([tok_ids])) + model.wpe(torch.arange(start, start + L))
            for blk, (ks, vs) in zip(model.h, caches):
                a = blk.attn
                q, k, v = a.c_attn(blk.ln_1(x)).split(D, dim=2)
                q = q.view(1, L, H, dh).transpose(1, 2)
                ks.append(k.view(1, L, H, dh).transpose(1, 2))
                vs.append(v.view(1, L, H, dh).transpose(1, 2))
                K, V = torch.cat(ks, 2), torch.cat(vs, 2)
                ks[:], vs[:] = [K], [V]
                att = (q @ K.transpose(-2, -1)) * (1.0 / math.sqrt(dh))
                S = K.size(2)
                mask = torch.ones(L, S, dtype=torch.bool).tril(S - L)
                att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
                y = (att @ V).transpose(1, 2).contiguous().view(1, L, D)
                x = x + a.c_proj(y)
                x = x + blk.mlp(blk.ln_2(x))
            return model.lm_head(model.ln_f(x))[0, -1]
        logits = step(list(ids), 0)
        for i in range(n):
            t = int(logits.argmax())
            out.append(t)
            if i + 1 < n:
                logits = step([t], len(ids) + i)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--prompt-bytes", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.prompt_bytes + a.tokens > T:
        raise SystemExit("--prompt-bytes + --tokens must be at most the context %d" % T)
    model = load_model()
    prompts = [w[:a.prompt_bytes] for w in FX["windows"][:a.prompts]]
    res = {"threads": torch.get_num_threads(), "torch": torch.__version__, "tokens": a.tokens, "prompts": len(prompts), "promptBytes": a.prompt_bytes}
    outs = {}
    for name, fn in [("full", gen_full), ("cached", gen_cached)]:
        fn(model, prompts[0], 4)  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        outs[name] = [fn(model, p, a.tokens) for p in prompts]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = a.tokens * len(prompts)
        res[name] = {"wallSeconds": round(wall, 3), "cpuSeconds": round(cpu, 3), "tokensPerSecond": round(n / wall, 1), "tokensPerCpuSecond": round(n / cpu, 1)}
    same = sum(x == y for f, c in zip(outs["full"], outs["cached"]) for x, y in zip(f, c))
    res["cachedEqualsFull"] = same == a.tokens * len(prompts)
    res["sample"] = bytes(prompts[0]).decode("utf-8", "replace") + " || " + bytes(outs["full"][0]).decode("utf-8", "replace")
    if not res["cachedEqualsFull"]:
        print("warning: the cached generation differs from the full one on %d tokens (float rounding)" % (a.tokens * len(prompts) - same), file=sys.stderr)
    print(json.dumps(res) if a.json else json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
