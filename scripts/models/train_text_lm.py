#!/usr/bin/python3
"""
Trains the text language model of issue 15 (keeper/models/text_lm/): a byte-level causal transformer
(vocabulary 256, context 128) on the King James Bible, seeded and deterministic, and exports it to
ONNX (opset 17, torch.onnx.export defaults) with the calibration windows and a float reference
fixture. Needs Debian's python3-torch (torch 1.13) and bible-kjv-text; CI and `npm install` do not:
they use the committed files.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 2 /usr/bin/python3 scripts/models/train_text_lm.py [--steps N] [--out DIR]

Install Debian's libopenblas0-pthread first: torch 1.13 from Debian runs its matrix products through
whatever libblas.so.3 the alternatives system points at, and the reference BLAS that comes by default
made a training step 14x slower here (2.3 s instead of 0.17 s for 16 windows at d = 128). The defaults
below are the committed run: 4,000 steps of 16 windows (8.2M bytes, about two epochs), 47 min of one
core on the shared 2-core machine.

Corpus: the King James Version from Debian's bible-kjv-text (`bible -f gen1:1-rev22:21`; the text
is public domain, the package GPL-2+). Each verse's text (its "Ge1:1 " reference stripped), then a
0x00 byte: the end-of-text token of docs/text-generation.md. The last 5% of the verses are held out.

Model: CharGpt of scripts/models/export_transformers.py (nanoGPT's GPT written out: fused qkv +
split, BOOL causal mask, erf GELU, tied head; logits at every position), here with d = 192, 6
layers, 4 heads, context 128: 2,743,296 parameters (the module reads its sizes from OAO_LM_* at
import, set below).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

os.environ["OAO_LM_CONTEXT"] = "128"
os.environ["OAO_LM_WIDTH"] = "192"
os.environ["OAO_LM_LAYERS"] = "6"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import export_transformers as et  # noqa: E402  (CharGpt and its sizes)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
T, VOCAB = et.T, et.VOCAB
END = 0  # end-of-text byte
PROMPTS = ["And God said", "In the beginning", "The LORD is my shepherd", "Jesus answered and said unto them,",
           "And it came to pass, when", "Blessed are", "For God so loved the world"]


def load_corpus():
    out = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True).stdout
    verses = []
    for line in out.split(b"\n"):
        if not line:
            continue
        ref, sep, text = line.partition(b" ")
        if not sep or b":" not in ref or not text:
            raise SystemExit("unexpected line from bible(1): %r" % line[:80])
        verses.append(text + bytes([END]))
    cut = int(len(verses) * 0.95)
    return verses, b"".join(verses[:cut]), b"".join(verses[cut:]), cut


def windows(tok, n, seed):
    """n windows of T + 1 bytes at seeded random offsets: inputs [:, :-1], next bytes [:, 1:]."""
    g = np.random.RandomState(seed)
    offs = g.randint(0, len(tok) - T - 1, size=n)
    return np.stack([tok[o:o + T + 1] for o in offs]).astype(np.int64)


def heldout_loss(model, tok, batch=32, limit=384):
    """Mean next-byte cross-entropy over the first `limit` non-overlapping windows of T held-out bytes
    (384 windows: 49,152 bytes, a quarter of the held-out text; the whole of it took minutes here)."""
    n = min(limit, (len(tok) - 1) // T)
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, n, batch):
            idx = range(i, min(n, i + batch))
            x = torch.tensor(np.stack([tok[j * T:j * T + T] for j in idx]).astype(np.int64))
            y = torch.tensor(np.stack([tok[j * T + 1:j * T + T + 1] for j in idx]).astype(np.int64))
            total += F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1), reduction="sum").item()
            count += y.numel()
    return total / count


def greedy(model, prompts, n):
    """Greedy continuation by repeated full forward passes over the zero-padded window (rows < L never
    read the padding), stopping at the end byte or the context: the rule of docs/text-generation.md."""
    ids = [list(p) for p in prompts]
    outs = [[] for _ in prompts]
    live = [True] * len(prompts)
    with torch.no_grad():
        for _ in range(n):
            run = [i for i in range(len(prompts)) if live[i] and len(ids[i]) < T]
            if not run:
                break
            x = torch.tensor([ids[i] + [0] * (T - len(ids[i])) for i in run])
            y = model(x)
            for r, i in enumerate(run):
                t = int(y[r, len(ids[i]) - 1].argmax())
                outs[i].append(t)
                ids[i].append(t)
                live[i] = t != END
    return outs


def r5(v):
    return float("%.5g" % v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--out", default=os.path.join(ROOT, "keeper", "models", "text_lm"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    verses, train_b, held_b, cut = load_corpus()
    tr = np.frombuffer(train_b, dtype=np.uint8)
    he = np.frombuffer(held_b, dtype=np.uint8)
    print("corpus: %d verses, %d train bytes, %d held-out bytes (verses %d..)" % (len(verses), len(tr), len(he), cut), flush=True)

    torch.manual_seed(0)
    model = et.CharGpt()
    params = sum(p.numel() for p in model.parameters())
    print("model: d=%d layers=%d heads=%d context=%d, %d parameters" % (et.D, et.LAYERS, et.HEADS, T, params), flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01, betas=(0.9, 0.95))
    g = np.random.RandomState(0)
    curve = []
    start = time.time()
    model.train()
    for step in range(a.steps):
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for grp in opt.param_groups:
            grp["lr"] = lr
        offs = g.randint(0, len(tr) - T - 1, size=a.batch)
        xb = torch.tensor(np.stack([tr[o:o + T] for o in offs]).astype(np.int64))
        yb = torch.tensor(np.stack([tr[o + 1:o + T + 1] for o in offs]).astype(np.int64))
        loss = F.cross_entropy(model(xb).reshape(-1, VOCAB), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 25 == 0 or step == a.steps - 1:
            curve.append([step, r5(loss.item())])
            print("step %5d  loss %.4f  lr %.2e  %.0fs" % (step, loss.item(), lr, time.time() - start), flush=True)
    seconds = time.time() - start
    model.eval()

    held_loss = heldout_loss(model, he)
    print("held-out loss %.4f nats/byte (ppl %.3f), %.0fs training" % (held_loss, math.exp(held_loss), seconds), flush=True)

    # ONNX: torch.onnx.export defaults, opset 17, the full-sequence graph ids [1, T] -> logits [1, T, 256]
    onnx_path = os.path.join(a.out, "text_lm.onnx")
    torch.onnx.export(model, torch.zeros(1, T, dtype=torch.long), onnx_path, input_names=["ids"], output_names=["logits"], opset_version=17)

    calib = windows(tr, 64, 1)[:, :-1]
    with open(os.path.join(a.out, "calibration.json"), "w") as f:
        json.dump(calib.tolist(), f, separators=(",", ":"))

    held = windows(he, 32, 2)
    with torch.no_grad():
        hl = model(torch.tensor(held[:, :-1]))
        win_loss = F.cross_entropy(hl.reshape(-1, VOCAB), torch.tensor(held[:, 1:]).reshape(-1)).item()
    win_argmax = hl.argmax(-1)
    win_acc = float((win_argmax == torch.tensor(held[:, 1:])).float().mean())

    prompts = [list(p.encode()) for p in PROMPTS]
    with torch.no_grad():
        rows = [model(torch.tensor([p + [0] * (T - len(p))]))[0, len(p) - 1] for p in prompts]
    texts = greedy(model, prompts, 64)
    for p, t in zip(PROMPTS, texts):
        print("  %r -> %r" % (p, bytes(t).decode("utf-8", "replace")))

    meta = {
        "name": "text_lm",
        "note": "CharGpt (scripts/models/export_transformers.py) byte-level, trained by scripts/models/train_text_lm.py",
        "corpus": "King James Bible (Debian bible-kjv-text, `bible -f gen1:1-rev22:21`; text public domain): verse text + 0x00, last 5% of verses held out",
        "context": T, "width": et.D, "heads": et.HEADS, "layers": et.LAYERS, "params": params,
        "train": {"steps": a.steps, "batch": a.batch, "lr": a.lr, "warmup": a.warmup, "seconds": round(seconds),
                  "torch": torch.__version__, "trainBytes": len(tr), "heldoutBytes": len(he), "curve": curve},
        "heldoutLoss": r5(held_loss),
        "heldoutPerplexity": r5(math.exp(held_loss)),
        "windows": held[:, :-1].tolist(),
        "windowsNext": held[:, 1:].tolist(),
        "windowsLoss": r5(win_loss),
        "windowsAccuracy": r5(win_acc),
        "windowsArgmax": win_argmax.tolist(),
        "prompts": [{"text": s, "ids": p, "logits": [r5(v) for v in r.tolist()], "argmax": int(r.argmax()),
                     "greedy": bytes(t).decode("utf-8", "replace")} for s, p, r, t in zip(PROMPTS, prompts, rows, texts)],
    }
    with open(os.path.join(a.out, "fixture.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print("wrote %s (%d bytes), calibration.json, fixture.json" % (onnx_path, os.path.getsize(onnx_path)))


if __name__ == "__main__":
    main()
