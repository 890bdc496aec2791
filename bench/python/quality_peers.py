"""The numpy, scikit-learn and PyTorch peers of flowsentinel's quality benchmark (bench:quality).

Every peer sees the rows of each labelled CSV in file order, as flowsentinel and the River peers do. The
scores (higher = more anomalous) are written as JSON; the TypeScript benchmark turns them into ROC-AUC
and PR-AUC, with and without flowsentinel's warm-up mask, with the same code it uses for flowsentinel.

Peers:
  mahalanobis  online full-covariance Gaussian, prequential: row t is scored with the squared Mahalanobis
               distance (x − μ)ᵀ(Σ + λI)⁻¹(x − μ) under the mean and covariance of rows 0..t−1 (Welford,
               float64; λ = 1e-6 · mean variance + 1e-12), then learned. The first 100 rows score 0
               (a grace period, as River's GaussianScorer).
  iforest      scikit-learn IsolationForest (100 trees, 256 samples per tree, the defaults) fitted on all
               rows at once, score = −score_samples: the batch reference of ADBench. Not online: it has
               seen every row, anomalies included, before scoring any.
  realnvp      RealNVP in PyTorch trained prequentially (issue 15's reference): 4 affine couplings, each
               conditioner [cond, 64, 64, 2·trans] with tanh, the coupling of realnvp_torch.py otherwise;
               features standardised by the mean and sd of the first 2,000 rows; per batch of 256 rows in
               file order, score the batch (−log p under no_grad), then one Adam step (lr 1e-3, global-norm
               clip 1) on that batch. It learns from every row, anomalies included.
iforest and realnvp run once per seed (--seeds); the first seed's scores are the headline figure, the
others give the seed spread.

Usage:
  python quality_peers.py --tabular a.csv.gz,b.csv.gz --seeds 42,43,44 --out scores.json
"""

from __future__ import annotations

import os

# One thread per process: the benchmark runs this beside flowsentinel and the River peers on shared cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from torch import nn  # noqa: E402

from realnvp_torch import RealNVP  # noqa: E402
from river_peers import read_tabular  # noqa: E402

GRACE = 100
FLOW_LAYERS = 4
FLOW_HIDDEN = 64
FLOW_BATCH = 256
FLOW_LR = 1e-3
FLOW_CLIP = 1.0
STANDARDISE_ROWS = 2000
# Stand-in for a non-finite score: more anomalous than any finite one.
HUGE = 1e30


def finite(scores: np.ndarray) -> list[float]:
    return np.nan_to_num(scores, nan=HUGE, posinf=HUGE, neginf=-HUGE).astype(float).tolist()


def run_mahalanobis(x: np.ndarray) -> list[float]:
    n, d = x.shape
    mean = np.zeros(d)
    m2 = np.zeros((d, d))
    eye = np.eye(d)
    out = np.zeros(n)
    for t in range(n):
        row = x[t]
        if t >= GRACE:
            cov = m2 / (t - 1)
            ridge = 1e-6 * float(np.trace(cov)) / d + 1e-12
            diff = row - mean
            out[t] = float(diff @ np.linalg.solve(cov + ridge * eye, diff))
        delta = row - mean
        mean += delta / (t + 1)
        m2 += np.outer(delta, row - mean)
    return finite(out)


def run_iforest(x: np.ndarray, seed: int) -> list[float]:
    model = IsolationForest(n_estimators=100, random_state=seed, n_jobs=1).fit(x)
    return finite(-model.score_samples(x))


def standardise(x: np.ndarray) -> np.ndarray:
    head = x[:STANDARDISE_ROWS]
    mu = head.mean(0)
    sd = head.std(0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    return ((x - mu) / sd).astype(np.float32)


def run_realnvp(x: np.ndarray, seed: int) -> list[float]:
    torch.manual_seed(seed)
    data = torch.from_numpy(standardise(x))
    model = RealNVP(data.shape[1], FLOW_LAYERS, FLOW_HIDDEN, nn.Tanh)
    opt = torch.optim.Adam(model.parameters(), lr=FLOW_LR)
    out = np.zeros(len(data))
    for start in range(0, len(data), FLOW_BATCH):
        batch = data[start : start + FLOW_BATCH]
        with torch.no_grad():
            out[start : start + len(batch)] = (-model.log_prob(batch)).numpy()
        loss = -model.log_prob(batch).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), FLOW_CLIP)
        opt.step()
    return finite(out)


def score_file(path: str, seeds: list[int]) -> dict:
    _, rows, _ = read_tabular(path)
    x = np.asarray(rows, dtype=np.float64)
    entry: dict = {"rows": len(rows), "seeds": seeds, "seconds": {}}
    t0 = time.perf_counter()
    entry["mahalanobis"] = run_mahalanobis(x)
    entry["seconds"]["mahalanobis"] = time.perf_counter() - t0
    for name, fn in (("iforest", run_iforest), ("realnvp", run_realnvp)):
        t0 = time.perf_counter()
        entry[name] = [fn(x, s) for s in seeds]
        entry["seconds"][name] = time.perf_counter() - t0
    secs = ", ".join(f"{k} {v:.1f} s" for k, v in entry["seconds"].items())
    print(f"  peers {path}: {len(rows)} rows, {secs}", file=sys.stderr, flush=True)
    return entry


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tabular", required=True)
    p.add_argument("--seeds", default="42,43,44")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    result = {
        "versions": {"torch": torch.__version__, "sklearn": sklearn_version(), "numpy": np.__version__},
        "tabular": {path: score_file(path, seeds) for path in args.tabular.split(",") if path},
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


if __name__ == "__main__":
    main()
