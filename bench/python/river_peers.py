"""River peers of flowsentinel's quality and throughput benchmarks.

Every detector follows the same prequential protocol as flowsentinel: for each row, in file order,
score_one first, then learn_one. Scores are written as JSON; the TypeScript benchmark computes ROC-AUC,
PR-AUC and the NAB score from them with the same code it uses for flowsentinel.

Detectors:
  hst       compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=42)), River's
            defaults otherwise (10 trees, height 8, window 250), as in River's HalfSpaceTrees docs.
  gaussian  univariate (NAB): anomaly.GaussianScorer() (defaults: unbounded window, grace period 100),
            score = 2·|CDF(y) − 0.5| of the value.
            multivariate (tabular): River's online full-covariance estimator proba.MultivariateGaussian;
            score = −log N(x; μ, Σ) of the row under the estimate learned from the previous rows
            (scipy logpdf, allow_singular=True; 0 during a grace period of 100 rows, as GaussianScorer).

Usage:
  python river_peers.py quality --tabular a.csv.gz,b.csv.gz --nab-files f1.csv,f2.csv --out scores.json
  python river_peers.py throughput --csv data.csv --repeats 3 --out rates.json
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
from river import anomaly, compose, preprocessing, proba
from scipy.stats import multivariate_normal

GRACE = 100


def read_tabular(path: str) -> tuple[list[str], list[list[float]], list[int]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        label = header.index("label")
        names = [h for i, h in enumerate(header) if i != label]
        rows: list[list[float]] = []
        labels: list[int] = []
        for r in reader:
            rows.append([float(v) for i, v in enumerate(r) if i != label])
            labels.append(int(float(r[label])))
    return names, rows, labels


def read_nab_values(path: str) -> list[float]:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        return [float(r[1]) for r in reader]


def hst_model():
    return compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=42))


def run_hst(xs: list[dict[str, float]]) -> list[float]:
    model = hst_model()
    out = []
    for x in xs:
        out.append(float(model.score_one(x)))
        model.learn_one(x)
    return out


def run_gaussian_univariate(values: list[float]) -> list[float]:
    det = anomaly.GaussianScorer()
    out = []
    for v in values:
        out.append(float(det.score_one(None, v)))
        det.learn_one(None, v)
    return out


def mv_neg_log_density(mv: proba.MultivariateGaussian, x: dict[str, float]) -> float:
    names, cov = mv._covariance_array()  # River's own estimate; __call__ returns pdf, which underflows
    mu = mv.mu
    value = -multivariate_normal([mu[n] for n in names], cov, allow_singular=True).logpdf(
        [x[n] for n in names]
    )
    return float(value) if math.isfinite(value) else 1e300


def run_gaussian_multivariate(xs: list[dict[str, float]]) -> list[float]:
    mv = proba.MultivariateGaussian()
    out = []
    for i, x in enumerate(xs):
        out.append(0.0 if i < GRACE else mv_neg_log_density(mv, x))
        mv.update(x)
    return out


def quality(args: argparse.Namespace) -> None:
    result: dict = {"tabular": {}, "nab": {}}
    for path in [p for p in args.tabular.split(",") if p]:
        names, rows, labels = read_tabular(path)
        xs = [dict(zip(names, r)) for r in rows]
        entry: dict = {"rows": len(rows)}
        for name, fn in (("hst", run_hst), ("gaussian", run_gaussian_multivariate)):
            t0 = time.perf_counter()
            entry[name] = fn(xs)
            entry[f"{name}Seconds"] = time.perf_counter() - t0
        result["tabular"][path] = entry
        print(f"  river {path}: {len(rows)} rows, hst {entry['hstSeconds']:.1f} s, "
              f"gaussian {entry['gaussianSeconds']:.1f} s", file=sys.stderr, flush=True)
    nab_files = [p for p in (args.nab_files or "").split(",") if p]
    t0 = time.perf_counter()
    for path in nab_files:
        values = read_nab_values(path)
        result["nab"][path] = {
            "hst": run_hst([{"value": v} for v in values]),
            "gaussian": run_gaussian_univariate(values),
        }
    if nab_files:
        print(f"  river NAB: {len(nab_files)} series, {time.perf_counter() - t0:.1f} s",
              file=sys.stderr, flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def timed(loop) -> tuple[float, float]:
    """Wall and process-CPU seconds of loop()."""
    w0, c0 = time.perf_counter(), time.process_time()
    loop()
    return time.perf_counter() - w0, time.process_time() - c0


def throughput(args: argparse.Namespace) -> None:
    names, rows, _ = read_tabular(args.csv)
    xs = [dict(zip(names, r)) for r in rows]
    runs: dict[str, list[float]] = {"scoreLearn": [], "scoreOnly": [], "scoreLearnCpu": [], "scoreOnlyCpu": []}
    for _ in range(args.repeats):
        model = hst_model()

        def score_learn() -> None:
            for x in xs:
                model.score_one(x)
                model.learn_one(x)

        def score_only() -> None:
            for x in xs:
                model.score_one(x)

        for key, loop in (("scoreLearn", score_learn), ("scoreOnly", score_only)):
            wall, cpu = timed(loop)
            runs[key].append(rate(len(xs), wall))
            runs[f"{key}Cpu"].append(rate(len(xs), cpu))
        print(f"  river hst: score+learn {runs['scoreLearn'][-1]:,.0f} ev/s "
              f"({runs['scoreLearnCpu'][-1]:,.0f} per CPU-s), score {runs['scoreOnly'][-1]:,.0f} ev/s "
              f"({runs['scoreOnlyCpu'][-1]:,.0f} per CPU-s)", file=sys.stderr, flush=True)
    out = {"river": river_version(), "events": len(xs), "dim": len(names), "runs": runs}
    out.update({k: float(np.median(v)) for k, v in runs.items()})
    with open(args.out, "w") as f:
        json.dump(out, f)


def river_version() -> str:
    import river

    return river.__version__


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--tabular", default="")
    q.add_argument("--nab-files", default="")
    q.add_argument("--out", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--csv", required=True)
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--out", required=True)
    args = parser.parse_args()
    quality(args) if args.cmd == "quality" else throughput(args)


if __name__ == "__main__":
    main()
