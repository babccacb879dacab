"""Local detection on the ten NID functions: accuracy and speed at equal query budgets.

For each budget (model queries per instance), each NID function F1..F10 and a few random
instances, explain the function as a black-box callable with ``"nid"`` (MADEX) and
``"archdetect"`` and ``"moebius"`` through :class:`~glider_plugins.InteractionAttribution`, and with shapiq's
KernelSHAPIQ (k-SII, order 2) on the same mask games as the outside reference. Prints mean pairwise
ROC AUC against the planted interactions and milliseconds per instance, measured in this run, and
the ratios against KernelSHAPIQ.

ArchDetect's design needs exactly p**2 + p + 2 = 112 queries for p = 10, whatever the budget;
``"moebius"`` queries the budget (at least those 112, at most all 1024 masks).

    python benchmarks/local_detection.py [--instances 5] [--budgets 300 1000 3000] [--plot out/local.png]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.groundtruth

from glider_plugins import InteractionAttribution  # noqa: E402
from tests.groundtruth.nid_functions import FUNCTIONS, mask_game, pairwise_auc, weak_true_pairs  # noqa: E402


def run_glider(detector: str, fn, x: np.ndarray, baselines: np.ndarray, budget: int, seed: int) -> tuple[float, float]:
    start = time.perf_counter()
    res = InteractionAttribution(fn, detector=detector).attribute_interactions(x, baselines=baselines, n_samples=budget, seed=seed)
    seconds = time.perf_counter() - start
    return score(fn, [res[i].pairwise() for i in range(len(x))], x, baselines), 1000 * seconds / len(x)


def score(fn, pairwise: list[np.ndarray], x: np.ndarray, baselines: np.ndarray) -> tuple[float, float]:
    """Mean (full, local) pairwise AUC: against the paper's sets, and without locally weak true pairs."""
    full = [pairwise_auc(m, fn.interactions) for m in pairwise]
    local = [pairwise_auc(m, fn.interactions, exclude=weak_true_pairs(fn, x[i], baselines[i])) for i, m in enumerate(pairwise)]
    return float(np.mean(full)), float(np.mean(local))


def run_shapiq(fn, x: np.ndarray, baselines: np.ndarray, budget: int, seed: int) -> tuple[float, float]:
    import shapiq

    matrices, start = [], time.perf_counter()
    for i in range(len(x)):
        game = mask_game(fn, x[i], baselines[i])
        approximator = shapiq.KernelSHAPIQ(n=fn.n_features, max_order=2, index="k-SII", random_state=seed)
        values = approximator.approximate(budget=budget, game=lambda coalitions, g=game: g(coalitions.astype(bool)))
        matrices.append(np.abs(values.get_n_order_values(2)))
    ms = 1000 * (time.perf_counter() - start) / len(x)
    return score(fn, matrices, x, baselines), ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=5, help="random instances per function")
    parser.add_argument("--budgets", type=int, nargs="+", default=[300, 1000, 3000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=None, help="save an AUC/time plot here (PNG)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    rows = []
    for budget in args.budgets:
        totals: dict[str, list[tuple[float, float]]] = {"nid": [], "archdetect": [], "moebius": [], "KernelSHAPIQ": []}
        for k, fn in enumerate(FUNCTIONS.values()):
            rng = np.random.default_rng([args.seed, k])
            x, baselines = fn.sample(args.instances, rng), fn.sample(args.instances, rng)
            totals["nid"].append(run_glider("nid", fn, x, baselines, budget, args.seed))
            totals["archdetect"].append(run_glider("archdetect", fn, x, baselines, budget, args.seed))
            totals["moebius"].append(run_glider("moebius", fn, x, baselines, budget, args.seed))
            totals["KernelSHAPIQ"].append(run_shapiq(fn, x, baselines, budget, args.seed))
        for method, values in totals.items():
            full = np.mean([v[0][0] for v in values])
            local = np.mean([v[0][1] for v in values])
            rows.append((budget, method, full, local, np.mean([v[1] for v in values])))

    print(f"NID functions F1..F10, {args.instances} random instances each, independent random baselines")
    print("pairwise ROC AUC vs the paper's interaction sets (full) and without true pairs that are locally < 5 % of the strongest (local)")
    print(f"{'budget':>7} {'method':<13} {'queries':>8} {'AUC full':>9} {'AUC local':>10} {'ms/instance':>12} {'speed vs SHAPIQ':>16} {'full AUC - SHAPIQ':>18}")
    verdicts = []
    for budget in args.budgets:
        ref = next(r for r in rows if r[0] == budget and r[1] == "KernelSHAPIQ")
        for b, method, full, local, ms in (r for r in rows if r[0] == budget):
            queries = 112 if method == "archdetect" else min(max(b, 112), 1024) if method == "moebius" else b
            print(f"{b:>7} {method:<13} {queries:>8} {full:>9.4f} {local:>10.4f} {ms:>12.1f} {ref[4] / ms:>15.1f}x {full - ref[2]:>+18.4f}")
            if method != "KernelSHAPIQ":
                faster, as_accurate = ms < ref[4], full >= ref[2]
                verdicts.append(f"{method} at {b}: {'faster' if faster else 'slower'}, "
                                f"{'at least as accurate' if as_accurate else 'less accurate'} -> {'PASS' if faster and as_accurate else 'FAIL'}")
    print("acceptance (faster than KernelSHAPIQ and full AUC at least as high, same budget):")
    for line in verdicts:
        print(f"  {line}")
    if args.plot:
        save_plot(rows, args.budgets, args.plot)
        print(f"plot saved to {args.plot}")


def save_plot(rows, budgets, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for method in ("nid", "archdetect", "moebius", "KernelSHAPIQ"):
        pts = [(r[0], r[2], r[4]) for r in rows if r[1] == method]
        left.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
        right.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=method)
    left.set(xscale="log", xlabel="query budget", ylabel="mean pairwise AUC (full sets)", title="accuracy")
    right.set(xscale="log", yscale="log", xlabel="query budget", ylabel="ms per instance", title="time")
    left.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
