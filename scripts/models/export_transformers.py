#!/usr/bin/python3
"""
Trains two small, seeded causal transformer language models (byte-level, vocabulary 256) and
exports them with `torch.onnx.export` at opset 13 and 17: the transformer fixtures of
keeper/graph/onnx/transformer.test.ts (issue 14, the transformer half; issue 15 builds on it).
Run with Debian's python3-torch (torch 1.13, onnx 1.12), offline, in about four minutes per model:

    /usr/bin/python3 scripts/models/export_transformers.py [char_gpt] [encoder_lm]

CI does not need torch: it uses the committed .onnx files, the calibration and held-out windows
(token ids, stored inline) and the float reference outputs torch computed here
(keeper/graph/onnx/fixtures/<model>.json).

Corpus: the licence texts of Debian's base-files package, /usr/share/common-licenses (Apache-2.0,
Artistic, BSD, CC0-1.0, GFDL-1.2, GFDL-1.3, GPL-1, GPL-2, GPL-3, LGPL-2, LGPL-2.1, LGPL-3,
MPL-1.1, MPL-2.0; the symlinks GFDL, GPL, LGPL skipped): about 265 kB of English prose on every
Debian machine. Each text's licence is its own (the GPL/LGPL/GFDL texts: "Everyone is permitted to
copy and distribute verbatim copies of this license document"; Apache-2.0 and MPL-2.0 are
themselves under their own terms; CC0 is public domain); the fixtures commit only short windows
(64 bytes) quoted from them, and the models trained on them. The last 10% of every file is held out.

Models (both: token embedding + learned position embedding, 2 pre-LayerNorm blocks with 4-head
causal self-attention and a 4·d GELU MLP, a final LayerNorm, the head tied to the token embedding):
- `char_gpt`: nanoGPT's model written out (fused qkv Linear + split, `q @ k.transpose(-2, -1)`
  scaled by 1/sqrt(dh), `masked_fill` with a BOOL lower-triangular buffer, exact (erf) GELU); the
  output is the next-byte logits at every position, [1, 64, 256].
- `encoder_lm`: `nn.TransformerEncoder` of `nn.TransformerEncoderLayer(norm_first=True,
  batch_first=True)` with an additive -inf causal mask (`nn.Transformer.generate_square_subsequent_mask`)
  and the tanh GELU; the output is the next-byte logits at the last position, [1, 256].
- `gpt2_style` (not trained: structure only): one block written the way Hugging Face's GPT-2 is
  (`torch.addmm` Conv1D, `permute`, `torch.where(mask, w, finfo.min)`, a dynamic batch axis).
"""
import functools
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.environ.get("OAO_LM_OUT") or os.path.join(ROOT, "keeper", "graph", "onnx", "fixtures")
CORPUS_DIR = "/usr/share/common-licenses"
CORPUS = ["Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.2", "GFDL-1.3", "GPL-1", "GPL-2", "GPL-3",
          "LGPL-2", "LGPL-2.1", "LGPL-3", "MPL-1.1", "MPL-2.0"]
OPSETS = (13, 17)
# the committed fixtures use the defaults; OAO_LM_CONTEXT/WIDTH/LAYERS/STEPS/BATCH (and OAO_LM_OUT for the
# output directory) size a larger model for experiments (docs/benchmarks.md: the scaling run)
T = int(os.environ.get("OAO_LM_CONTEXT", 64))       # context (tokens per request)
D = int(os.environ.get("OAO_LM_WIDTH", 64))         # model width
HEADS = 4
LAYERS = int(os.environ.get("OAO_LM_LAYERS", 2))
STEPS = int(os.environ.get("OAO_LM_STEPS", 600))
BATCH = int(os.environ.get("OAO_LM_BATCH", 16))
VOCAB = 256

# one thread: on the shared 2-core machine OpenMP with 2 threads was 4x slower per step (contention);
# the two models train in two processes (`... char_gpt & ... encoder_lm`) when both cores are free
torch.set_num_threads(1)


def load_corpus():
    train, held = [], []
    for name in CORPUS:
        with open(os.path.join(CORPUS_DIR, name), "rb") as f:
            b = f.read()
        cut = int(len(b) * 0.9)
        train.append(b[:cut])
        held.append(b[cut:])
    return train, held


def windows(parts, n, seed, length=T):
    """n windows of `length` bytes at seeded random offsets, each inside one text."""
    g = np.random.RandomState(seed)
    sizes = np.array([len(p) - length - 1 for p in parts], dtype=np.float64)
    out = []
    for _ in range(n):
        i = g.choice(len(parts), p=sizes / sizes.sum())
        o = g.randint(0, len(parts[i]) - length - 1)
        out.append(list(parts[i][o:o + length + 1]))
    return np.array(out, dtype=np.int64)  # [n, length + 1]: inputs [:, :-1], next bytes [:, 1:]


# ---------------------------------------------------------------- models

class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(D, 3 * D)
        self.c_proj = nn.Linear(D, D)
        self.register_buffer("bias", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T))

    def forward(self, x):
        B, L, C = x.size()
        q, k, v = self.c_attn(x).split(D, dim=2)
        k = k.view(B, L, HEADS, C // HEADS).transpose(1, 2)
        q = q.view(B, L, HEADS, C // HEADS).transpose(1, 2)
        v = v.view(B, L, HEADS, C // HEADS).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :L, :L] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, L, C)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(D, 4 * D)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * D, D)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(D)
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(D)
        self.mlp = Mlp()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class CharGpt(nn.Module):
    """nanoGPT's GPT, byte-level: logits at every position."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, D)
        self.wpe = nn.Embedding(T, D)
        self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, VOCAB, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class EncoderLm(nn.Module):
    """nn.TransformerEncoderLayer blocks with a causal mask: logits at the last position."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.randn(T, D) * 0.02)
        layer = nn.TransformerEncoderLayer(D, HEADS, 4 * D, dropout=0.0, activation=functools.partial(F.gelu, approximate="tanh"),
                                           batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))
        nn.init.normal_(self.tok.weight, 0.0, 0.02)

    def features(self, idx):
        x = self.tok(idx) + self.pos
        return self.norm(self.enc(x, mask=self.mask))

    def all_logits(self, idx):
        return self.features(idx) @ self.tok.weight.t()

    def forward(self, idx):
        return self.features(idx)[:, -1, :] @ self.tok.weight.t()


class Gpt2Attention(nn.Module):
    """Hugging Face GPT-2's attention as written there: Conv1D (torch.addmm on [B*T, C]), permute,
    torch.where(bool mask, w, finfo.min), the scale as a Div by torch.full([], sqrt(dh))."""

    def __init__(self):
        super().__init__()
        self.c_attn_w = nn.Parameter(torch.randn(D, 3 * D) * 0.05)
        self.c_attn_b = nn.Parameter(torch.randn(3 * D) * 0.02)
        self.c_proj_w = nn.Parameter(torch.randn(D, D) * 0.05)
        self.c_proj_b = nn.Parameter(torch.randn(D) * 0.02)
        self.register_buffer("bias", torch.tril(torch.ones((T, T), dtype=torch.bool)).view(1, 1, T, T))

    def forward(self, x):
        B, L, C = x.size()
        h = torch.addmm(self.c_attn_b, x.view(-1, C), self.c_attn_w).view(B, L, 3 * C)
        q, k, v = h.split(C, dim=2)
        heads = lambda t: t.view(B, L, HEADS, C // HEADS).permute(0, 2, 1, 3)
        q, k, v = heads(q), heads(k), heads(v)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5)
        w = torch.where(self.bias[:, :, :L, :L], w, torch.tensor(torch.finfo(w.dtype).min))
        a = torch.matmul(F.softmax(w, dim=-1), v).permute(0, 2, 1, 3).contiguous().view(B, L, C)
        return torch.addmm(self.c_proj_b, a.view(-1, C), self.c_proj_w).view(B, L, C)


class Gpt2Style(nn.Module):
    """One GPT-2-style block (untrained, seeded): the export patterns of HF code, a dynamic batch axis."""

    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, D)
        self.wpe = nn.Embedding(T, D)
        self.ln_1 = nn.LayerNorm(D)
        self.attn = Gpt2Attention()
        self.ln_2 = nn.LayerNorm(D)
        self.fc = nn.Linear(D, 4 * D)
        self.proj = nn.Linear(4 * D, D)
        self.ln_f = nn.LayerNorm(D)

    def forward(self, idx):
        pos = torch.arange(0, idx.size(-1), dtype=torch.long).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        x = x + self.attn(self.ln_1(x))
        x = x + self.proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))
        return (self.ln_f(x) @ self.wte.weight.t())[:, -1, :]


def gpt2_style(calib):
    """Structure only (no training): the importer's float reading must equal torch's, every node native = VM."""
    torch.manual_seed(0)
    m = Gpt2Style().eval()
    files = []
    for opset in OPSETS:
        path = os.path.join(OUT, "gpt2_style.opset%d.onnx" % opset)
        torch.onnx.export(m, torch.zeros(1, T, dtype=torch.long), path, input_names=["ids"], output_names=["logits"], opset_version=opset,
                          dynamic_axes={"ids": {0: "batch"}, "logits": {0: "batch"}})
        files.append(os.path.basename(path))
    with torch.no_grad():
        out = m(torch.tensor(calib[:8, :-1]))
    meta = {"name": "gpt2_style", "note": Gpt2Style.__doc__, "files": files, "context": T,
            "calibration": calib[:8, :-1].tolist(), "calibrationFloat": [[r5(v) for v in row] for row in out.tolist()]}
    with open(os.path.join(OUT, "gpt2_style.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print("gpt2_style   %s" % ", ".join(files))


# ---------------------------------------------------------------- training and export

def train(model, data, steps, lr, batch=BATCH, seed=0, all_logits=None):
    """AdamW with a cosine schedule on seeded random windows, a fixed number of steps."""
    run = all_logits or model
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    g = np.random.RandomState(seed)
    tok = np.frombuffer(b"".join(data), dtype=np.uint8)
    start = time.time()
    model.train()
    for step in range(steps):
        for grp in opt.param_groups:
            grp["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        offs = g.randint(0, len(tok) - T - 1, size=batch)
        xb = torch.tensor(np.stack([tok[o:o + T] for o in offs]).astype(np.int64))
        yb = torch.tensor(np.stack([tok[o + 1:o + T + 1] for o in offs]).astype(np.int64))
        loss = F.cross_entropy(run(xb).reshape(-1, VOCAB), yb.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0:
            print("  step %4d  loss %.3f  %.0fs" % (step, loss.item(), time.time() - start), flush=True)
    print("  %d steps in %.0fs" % (steps, time.time() - start))
    model.eval()
    return model


def export(model, name):
    dummy = torch.zeros(1, T, dtype=torch.long)
    files = []
    for opset in OPSETS:
        path = os.path.join(OUT, "%s.opset%d.onnx" % (name, opset))
        torch.onnx.export(model, dummy, path, input_names=["tokens"], output_names=["logits"], opset_version=opset)
        files.append(os.path.basename(path))
    return files


def r5(v):
    return float("%.5g" % v)


def fixture(name, model, all_logits, calib, held, note):
    """calib/held: [n, T + 1] windows. Reference: the argmax (and the float logits for a few windows)."""
    with torch.no_grad():
        hx = torch.tensor(held[:, :-1])
        h_all = all_logits(hx)                       # [n, T, V]
        h_out = model(hx)                            # [n, T, V] or [n, V]
        c_out = model(torch.tensor(calib[:8, :-1]))
        if c_out.dim() == 3:
            c_out = c_out[:, -1, :]                  # the last position's logits (the file stays small)
        loss = F.cross_entropy(h_all.reshape(-1, VOCAB), torch.tensor(held[:, 1:]).reshape(-1)).item()
    argmax = h_out.argmax(-1)
    nxt = torch.tensor(held[:, 1:] if h_out.dim() == 3 else held[:, -1])
    acc = float((argmax == nxt).float().mean())
    files = export(model, name)
    meta = {
        "name": name,
        "note": note,
        "files": files,
        "corpus": "/usr/share/common-licenses (Debian base-files): " + ", ".join(CORPUS) + "; last 10% of each held out",
        "context": T,
        "width": D,
        "heads": HEADS,
        "layers": LAYERS,
        "params": sum(p.numel() for p in model.parameters()),
        "outputShape": list(h_out.shape[1:]),
        "heldoutLoss": r5(loss),
        "heldoutAccuracy": r5(acc),
        "calibration": calib[:, :-1].tolist(),
        "heldout": held[:, :-1].tolist(),
        "heldoutNext": held[:, 1:].tolist(),
        "heldoutArgmax": argmax.tolist(),
        "calibrationFloat": [[r5(v) for v in row] for row in c_out.tolist()],
    }
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print("%-12s held-out loss %.3f (ppl %.2f), next-byte accuracy %.3f, %d params  %s" % (name, loss, math.exp(loss), acc, meta["params"], ", ".join(files)))


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    train_parts, held_parts = load_corpus()
    calib = windows(train_parts, 64, 1)
    held = windows(held_parts, 200, 2)

    if not only or "char_gpt" in only:
        torch.manual_seed(0)
        m = CharGpt()
        train(m, train_parts, steps=STEPS, lr=3e-3)
        fixture("char_gpt", m, m, calib, held, "nanoGPT-style byte-level GPT: fused qkv + split, BOOL causal mask (masked_fill), erf GELU, tied head; logits at every position")
    if not only or "gpt2_style" in only:
        gpt2_style(calib)
    if not only or "encoder_lm" in only:
        torch.manual_seed(0)
        m = EncoderLm()
        train(m, train_parts, steps=STEPS, lr=3e-3, all_logits=m.all_logits)
        fixture("encoder_lm", m, m.all_logits, calib, held, "nn.TransformerEncoderLayer(norm_first) x2 with an additive -inf causal mask, tanh GELU, tied head; logits at the last position")


if __name__ == "__main__":
    main()
