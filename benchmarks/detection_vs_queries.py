"""Local detection time vs the time of the model queries alone (the floor), on an ONNX CTR model.

Part 1: for p = 10, 39, 100, 300 fields and n_samples = 1000 / 6000, batched ``"nid"`` on a few
instances of a DeepFM served by onnxruntime: milliseconds per instance spent on the model queries
(perturbing + onnxruntime, from the result's metadata) and on detection, and their ratio.

Part 2 (the issue's acceptance): batched ``"nid"`` on ``--accept-instances`` instances of the
39-field model at 1000 samples vs one ``attribute`` call per instance: detection/query ratio,
speed-up, and whether both find the same top interactions. The batched call is timed cold (the
designs' shared factorisations built inside it, as in a fresh process) and warm (built already);
the one-at-a-time loop runs cold, then warm, and each is compared with the batched call
in the same state. Run on two DeepFM sizes, since the
floor is the model's own cost: ``small`` (8-dim embeddings, 64-32: about 2 us per row) and
``paper`` (the DeepFM paper's Criteo size, 10-dim embeddings, 400-400-400: about 8 us per row).

    python benchmarks/detection_vs_queries.py [--instances 4] [--accept-instances 100] [--sizes small paper] [--threads N] [--device cuda] [--plot out.png]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ctr_onnx import PAPER_SIZE, SMALL_SIZE, ctr_onnx, trained_ctr_onnx  # noqa: E402
from glider_plugins import InteractionAttribution  # noqa: E402
from glider_plugins.detectors.pure_effects.shared import forget_designs  # noqa: E402


def run(ia: InteractionAttribution, data: tuple[np.ndarray, ...], n_samples: int, seed: int, **options) -> tuple[object, float]:
    start = time.perf_counter()
    res = ia.attribute_interactions(data, n_samples=n_samples, seed=seed, **options)
    return res, time.perf_counter() - start


def grid(args: argparse.Namespace) -> list[tuple[int, int, float, float]]:
    rows = []
    print(f"Part 1: batched '{args.detector}' on {args.instances} instances per cell, DeepFM over p fields served by onnxruntime")
    print(f"{'p':>5} {'n_samples':>9} {'design ms/inst':>15} {'query ms/inst':>14} {'detect ms/inst':>15} {'of it fit':>10} {'detect/query':>13} {'repeated rows':>14}")
    for p in args.p:
        model, (cat, dense) = ctr_onnx(p, args.instances, seed=args.seed)
        ia = InteractionAttribution(model, detector=args.detector)
        for n_samples in args.samples:
            res, _ = run(ia, (cat, dense), n_samples, args.seed, **_options(args))
            meta = res.metadata
            q, d = 1000 * meta["query_seconds"] / args.instances, 1000 * meta["detect_seconds"] / args.instances
            share = meta["n_repeated"] / max(1, meta["n_queries"])
            rows.append((p, n_samples, q, d))
            design = 1000 * meta["design_seconds"] / args.instances
            fit = 1000 * meta["fit_seconds"] / args.instances
            print(f"{p:>5} {n_samples:>9} {design:>15.2f} {q:>14.2f} {d:>15.1f} {fit:>10.1f} {d / q:>12.1f}x {share:>13.1%}", flush=True)
    return rows


SIZES = {"small": SMALL_SIZE, "paper": PAPER_SIZE}


def acceptance(args: argparse.Namespace) -> None:
    for size in args.sizes:
        acceptance_on(args, size)


def acceptance_on(args: argparse.Namespace, size: str) -> None:
    n = args.accept_instances
    planted: list = []
    if args.model == "trained":
        model, (cat, dense), planted = trained_ctr_onnx(n, seed=args.seed, size=SIZES[size])
    else:
        model, (cat, dense) = ctr_onnx(39, n, seed=args.seed, size=SIZES[size])
    ia = InteractionAttribution(model, detector=args.detector)
    forget_designs()  # a cold start: the designs' shared factorisations are built inside the timed call
    cold, cold_s = run(ia, (cat, dense), 1000, args.seed, **_options(args))
    batched, batched_s = run(ia, (cat, dense), 1000, args.seed, **_options(args))  # warm: built already
    forget_designs()
    alone, single = one_at_a_time(ia, cat, dense, args)  # cold start: designs built in the loop, kept between calls
    _, single_warm = one_at_a_time(ia, cat, dense, args)  # warm: every design built already
    meta = batched.metadata
    identical = np.mean([a.interactions == batched[i].interactions for i, a in enumerate(alone)])
    gap = max(float(np.abs(a.pairwise() - batched[i].pairwise()).max()) for i, a in enumerate(alone))
    ratio = meta["detect_seconds"] / meta["query_seconds"]
    shape = SIZES[size]
    what = "trained on Criteo-like clicks with planted crosses" if args.model == "trained" else "untrained"
    chosen = sorted({r.metadata.get("detector") for r in batched})
    print(f"\nPart 2: '{args.detector}' ({', '.join(map(str, chosen))}), {n} instances of a 39-field ONNX DeepFM, {what} ({size}: embeddings {shape['embed_dim']}, "
          f"hidden {'-'.join(map(str, shape['hidden']))}), 1000 samples each")
    print(f"  queries: {1e6 * meta['query_seconds'] / meta['n_queries']:.1f} us per perturbed row, {1000 * meta['query_seconds'] / n:.1f} ms per instance")
    for label, seconds, part in (("batched, cold", cold_s, cold.metadata), ("batched, warm", batched_s, meta)):
        print(f"  {label + ':':15s} total {seconds:7.2f} s  design {part['design_seconds']:6.2f} s  queries {part['query_seconds']:6.2f} s  "
              f"detection {part['detect_seconds']:7.2f} s (fit {part['fit_seconds']:.2f} s, ranking {part['rank_seconds']:.2f} s)  "
              f"detection/query = {part['detect_seconds'] / part['query_seconds']:.1f}")
    print(f"  acceptance (issue 26, detection/query <= 1.0): cold {'PASS' if cold.metadata['detect_seconds'] <= cold.metadata['query_seconds'] else 'FAIL'}, "
          f"warm {'PASS' if ratio <= 1.0 else 'FAIL'}")
    for label, (seconds, queries, detection) in (("one at a time, cold:", single), ("one at a time, warm:", single_warm)):
        print(f"  {label:21s} total {seconds:7.2f} s  queries {queries:6.2f} s  detection {detection:7.2f} s")
    cold_speedup, speedup = single[0] / cold_s, single_warm[0] / batched_s
    print(f"  batched vs one at a time, like for like: cold {cold_speedup:.1f}x total, warm {speedup:.1f}x total "
          f"({single_warm[2] / meta['detect_seconds']:.1f}x detection, {single_warm[1] / meta['query_seconds']:.1f}x queries; "
          f"acceptance: >= 3x, issue 26 -> {'PASS' if min(cold_speedup, speedup) >= 3 else 'FAIL'})")
    print(f"  same ranked interactions alone and in the batch: {identical:.0%} of instances; largest pairwise strength difference {gap:.2g}")
    glob_single, glob_batched = _global_top([a.interactions for a in alone]), _global_top([batched[i].interactions for i in range(n)])
    print(f"  counted over the {n} instances (GLIDER, top 3 each): top-5 batched {glob_batched}, one at a time {glob_single}")
    if planted:
        pairs = {tuple(sorted(pair)) for group in planted for pair in itertools.combinations(sorted(group), 2)}
        hit = [len(set(itertools.combinations(s, 2)) & pairs) > 0 for s in glob_batched]
        print(f"  planted groups {sorted(tuple(sorted(g)) for g in planted)}: {sum(hit)} of the top 5 hold a planted pair")


def one_at_a_time(ia: InteractionAttribution, cat: np.ndarray, dense: np.ndarray, args: argparse.Namespace) -> tuple[list, tuple[float, float, float]]:
    """One ``attribute_interactions`` call per instance: the results, and the seconds in all,
    in the queries and in detection."""
    seconds, queries, detection, found = 0.0, 0.0, 0.0, []
    for i in range(len(cat)):
        res, spent = run(ia, (cat[i : i + 1], dense[i : i + 1]), 1000, args.seed, **_options(args))
        seconds += spent
        queries += res.metadata["query_seconds"]
        detection += res.metadata["detect_seconds"]
        found.append(res[0])
    return found, (seconds, queries, detection)


def _options(args: argparse.Namespace) -> dict:
    """``device`` for NID (an option only NID takes: ``"auto"`` given it would choose NID)."""
    return {"device": args.device} if args.detector == "nid" or args.device != "cpu" else {}


def _global_top(rankings: list[list[tuple[tuple[int, ...], float]]], per_instance: int = 3, k: int = 5) -> list[tuple[int, ...]]:
    """GLIDER's counting: the ``k`` interactions most often among an instance's ``per_instance`` strongest."""
    counts: dict[tuple[int, ...], int] = {}
    for ranked in rankings:
        for features, _ in ranked[:per_instance]:
            counts[features] = counts.get(features, 0) + 1
    return [s for s, _ in sorted(counts.items(), key=lambda e: (-e[1], e[0]))[:k]]


def save_plot(rows: list[tuple[int, int, float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for n_samples in sorted({r[1] for r in rows}):
        pts = [r for r in rows if r[1] == n_samples]
        ax.plot([r[0] for r in pts], [r[2] for r in pts], "--o", label=f"queries, n={n_samples}")
        ax.plot([r[0] for r in pts], [r[3] for r in pts], "-s", label=f"detection, n={n_samples}")
    ax.set(xscale="log", yscale="log", xlabel="features p", ylabel="ms per instance", title="nid on an ONNX DeepFM")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--p", type=int, nargs="+", default=[10, 39, 100, 300])
    parser.add_argument("--samples", type=int, nargs="+", default=[1000, 6000])
    parser.add_argument("--instances", type=int, default=4, help="instances per cell of part 1")
    parser.add_argument("--accept-instances", type=int, default=100, help="instances of part 2 (0: skip)")
    parser.add_argument("--model", choices=["trained", "untrained"], default="trained",
                        help="part 2's DeepFM: trained on Criteo-like clicks with planted crosses (a few seconds), or untrained")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["small", "paper"],
                        help="DeepFM sizes of part 2: small (8-dim embeddings, 64-32) and the DeepFM paper's Criteo size (10, 400-400-400)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's, all cores; NID trains stacks of fewer than 16 instances on one)")
    parser.add_argument("--device", default="cpu", help="torch device NID trains on (e.g. cuda); the model queries stay on onnxruntime's CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--detector", default="nid", help="detector of both parts (e.g. auto, the default)")
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}, NID on {args.device}")
    rows = grid(args) if args.instances > 0 else []
    if args.accept_instances > 0:
        acceptance(args)
    if args.plot and rows:
        save_plot(rows, args.plot)
        print(f"plot saved to {args.plot}")


if __name__ == "__main__":
    main()
