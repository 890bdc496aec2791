"""The deep-learning peer of the throughput benchmark: flowsentinel's RealNVP written in PyTorch.

Architecture, as src/flow/builders.ts `realNVP` with the config defaults (6 layers, hidden 64):
  - `layers` affine couplings (src/flow/transforms/affine-coupling.ts) with parities 0, 1, 0, …:
    dimension i conditions when i mod 2 = parity, the others are transformed;
  - conditioner MLP [|cond|, hidden, hidden, 2·|trans|], ReLU between layers, linear output, Glorot-uniform
    weights, zero biases, zero last layer (a new layer is the identity);
  - output split: shift t = out[:, :k], log-scale s = c·tanh(out[:, k:] / c) with c = 3;
  - z_t = x_t·e^s + t, log|det| = Σ s; standard-normal prior; loss = mean NLL.
Training: AdamW (lr 1e-3, weight decay 0, β = (0.9, 0.999), ε = 1e-8), global-norm clip 5, one readback of
the loss per step. Scoring: one forward pass under no_grad and one readback (.numpy()) per batch.

Protocol per micro-batch of `batch` events, in file order:
  score only:    score the batch.
  score + learn: score the batch, then `steps` optimizer steps on `batch` rows (half the new rows, half
                 drawn from a replay buffer of past rows, like flowsentinel's reservoir).

Usage: python realnvp_torch.py --csv data.csv [--layers 6] [--hidden 64] [--batch 256] [--steps 1]
         [--repeats 3] [--out rates.json]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import sys
import time

import numpy as np
import torch
from torch import nn

CLAMP = 3.0


class Coupling(nn.Module):
    def __init__(self, dim: int, hidden: int, parity: int, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.cond = [i for i in range(dim) if i % 2 == parity]
        self.trans = [i for i in range(dim) if i % 2 != parity]
        k = len(self.trans)
        self.net = nn.Sequential(
            nn.Linear(len(self.cond), hidden), activation(),
            nn.Linear(hidden, hidden), activation(),
            nn.Linear(hidden, 2 * k),
        )
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
        nn.init.zeros_(self.net[-1].weight)
        self.k = k

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(x[:, self.cond])
        shift, raw = out[:, : self.k], out[:, self.k :]
        log_scale = CLAMP * torch.tanh(raw / CLAMP)
        z = x.clone()
        z[:, self.trans] = x[:, self.trans] * torch.exp(log_scale) + shift
        return z, log_scale.sum(dim=1)


class RealNVP(nn.Module):
    def __init__(self, dim: int, layers: int, hidden: int, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        self.layers = nn.ModuleList(Coupling(dim, hidden, i % 2, activation) for i in range(layers))
        self.const = -0.5 * dim * math.log(2 * math.pi)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return self.const - 0.5 * (x * x).sum(dim=1) + log_det


def read_rows(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        keep = [i for i, h in enumerate(header) if h != "label"]
        data = np.array([[float(r[i]) for i in keep] for r in reader], dtype=np.float32)
    return (data - data.mean(0)) / (data.std(0) + 1e-6)


def run(data: np.ndarray, args: argparse.Namespace, learn: bool) -> tuple[float, float]:
    """Events per wall second and per process-CPU second of one pass over `data`."""
    torch.manual_seed(0)
    model = RealNVP(data.shape[1], args.layers, args.hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    rng = np.random.default_rng(0)
    half = args.batch // 2
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(data), args.batch):
        batch = torch.from_numpy(data[start : start + args.batch])
        with torch.no_grad():
            model.log_prob(batch).numpy()
        if not learn:
            continue
        for _ in range(args.steps):
            new = batch[torch.from_numpy(rng.choice(len(batch), min(half, len(batch)), replace=False))]
            old = torch.from_numpy(data[rng.integers(0, start + len(batch), args.batch - len(new))])
            x = torch.cat([new, old])
            loss = -model.log_prob(x).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            loss.item()
    return len(data) / (time.perf_counter() - t0), len(data) / (time.process_time() - c0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--csv", required=True)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    data = read_rows(args.csv)
    run(data[: 20 * args.batch], args, learn=True)  # warm-up (allocator, kernels)
    runs: dict[str, list[float]] = {"scoreOnly": [], "scoreLearn": [], "scoreOnlyCpu": [], "scoreLearnCpu": []}
    for _ in range(args.repeats):
        for key, learn in (("scoreOnly", False), ("scoreLearn", True)):
            wall, cpu = run(data, args, learn=learn)
            runs[key].append(wall)
            runs[f"{key}Cpu"].append(cpu)
        print(f"  torch realnvp: score {runs['scoreOnly'][-1]:,.0f} ev/s ({runs['scoreOnlyCpu'][-1]:,.0f} per CPU-s), "
              f"score+learn {runs['scoreLearn'][-1]:,.0f} ev/s ({runs['scoreLearnCpu'][-1]:,.0f} per CPU-s)",
              file=sys.stderr, flush=True)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "events": len(data),
        "dim": int(data.shape[1]),
        "layers": args.layers,
        "hidden": args.hidden,
        "batch": args.batch,
        "steps": args.steps,
        "runs": runs,
    }
    out.update({k: float(np.median(v)) for k, v in runs.items()})
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f)
    else:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
