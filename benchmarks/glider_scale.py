"""GLIDER at scale on a 39-field ONNX CTR model: instances per second and peak memory.

For growing numbers of instances (up to ``--instances``, 10,000 by default), runs
``Glider.detect`` locally and on a ``dask.distributed.LocalCluster`` (``--workers`` processes, one
thread each), and prints instances/s, the speed-up of the cluster, and the peak memory of the
driving process: traced Python/numpy allocations (``tracemalloc``, in a separate untimed run, since
tracing slows Python code) and the process's resident peak (``getrusage``). Chunks are streamed (made lazily, counted and dropped), so
memory stays flat as the number of instances grows. Saves a plot of the scaling curves.

``"archdetect"`` by default (its p**2 + p + 2 = 1562 queries per instance at p = 39 make this the
query-bound case); ``--detector nid --samples 1000`` for MADEX, ``--detector auto --samples 1000
--size paper`` for issue 26's case (the default detector, the DeepFM paper's 400-400-400). Each
local run's time is split into the model queries and the rest (``total / queries``: the floor is
1x).

    python benchmarks/glider_scale.py [--instances 10000] [--steps 4] [--workers 2] [--size small|paper] [--plot out/scale.png]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ctr_onnx import PAPER_SIZE, SMALL_SIZE, ctr_onnx  # noqa: E402
from glider_plugins import Glider  # noqa: E402


def timed(glider: Glider, data: tuple[np.ndarray, ...], args: argparse.Namespace, executor=None) -> tuple[float, object]:
    """(seconds, result) of one detect call."""
    start = time.perf_counter()
    n_samples = args.samples or (39**2 + 39 + 2 if args.detector == "archdetect" else 1000)
    found = glider.detect(data, top_k=10, n_samples=n_samples, seed=args.seed, chunk_size=args.chunk_size, show_progress=False, executor=executor)
    return time.perf_counter() - start, found


def traced_peak(glider: Glider, data: tuple[np.ndarray, ...], args: argparse.Namespace) -> float:
    """Peak traced allocations (MiB) of a local detect call, in a separate run: tracing slows
    Python code, so the timed runs are not traced."""
    tracemalloc.start()
    try:
        timed(glider, data, args)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=4, help="sizes: instances / 2**k for k < steps")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--detector", default="archdetect")
    parser.add_argument("--samples", type=int, default=None, help="queries per instance (default: archdetect's 1562, else 1000)")
    parser.add_argument("--chunk-size", type=int, default=128)
    parser.add_argument("--size", choices=["small", "paper"], default="small",
                        help="the DeepFM's size: small (8-dim embeddings, 64-32) or paper (10-dim, 400-400-400)")
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the traced run (tracemalloc slows numpy-heavy detectors several times); max RSS is still reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)  # as Dask's workers (which also get OMP/OPENBLAS_NUM_THREADS=1)
    try:  # numpy's BLAS too, or the local run competes with its own spinning threads
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    model, data = ctr_onnx(39, args.instances, seed=args.seed, size=PAPER_SIZE if args.size == "paper" else SMALL_SIZE)
    glider = Glider(model, detector=args.detector, intra_op_num_threads=1)
    sizes = sorted({max(1, args.instances >> k) for k in range(args.steps)})
    client = cluster = None
    if not args.no_cluster:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        timed(glider, tuple(a[:8] for a in data), args, client)  # warm the workers (imports, session)
    print(f"GLIDER '{args.detector}' on a 39-field ONNX DeepFM ({args.size}), chunk_size {args.chunk_size}, top_k 10")
    print(f"{'instances':>9} {'local inst/s':>13} {'total/queries':>14} {'cluster inst/s':>15} {'speed-up':>9} {'traced peak MiB':>16} "
          f"{'max RSS MiB':>12} {'same result':>12}")
    rows = []
    for n in sizes:
        part = tuple(a[:n] for a in data)
        local_s, local = timed(glider, part, args)
        peak = float("nan") if args.no_trace else traced_peak(glider, part, args)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if client is not None:
            dist_s, dist = timed(glider, part, args, client)
            same = str(dist == local)
        else:
            dist_s, same = float("nan"), "-"
        rows.append((n, n / local_s, n / dist_s, peak, rss))
        floor = local_s / max(local.metadata["query_seconds"], 1e-12)
        print(f"{n:>9} {n / local_s:>13.1f} {floor:>13.2f}x {n / dist_s:>15.1f} {local_s / dist_s:>8.2f}x {peak:>16.1f} {rss:>12.0f} "
              f"{same:>12}", flush=True)
    meta = local.metadata
    print(f"last local run: query {meta['query_seconds']:.1f} s, detection {meta['detect_seconds']:.1f} s "
          f"(fit {meta.get('fit_seconds', float('nan')):.1f} s, ranking {meta.get('rank_seconds', float('nan')):.1f} s), "
          f"{meta['n_queries']} rows answered, {meta['n_repeated']} of them from repeats (not sent to the model)")
    if args.no_trace:
        print(f"max RSS of the driver (the process's peak so far), largest / smallest run: {rows[-1][4] / rows[0][4]:.2f} "
              f"for {rows[-1][0] / rows[0][0]:.0f}x the instances")
    grow = (rows[-1][3] - rows[0][3]) * 2**10 / max(1, rows[-1][0] - rows[0][0])
    if not args.no_trace:
        print(f"traced peak memory, largest / smallest run: {rows[-1][3] / rows[0][3]:.2f} for {rows[-1][0] / rows[0][0]:.0f}x the instances "
              f"({grow:.2f} KiB more per instance: the formatted copy of the data and the counts, not the chunks' work)")
    if client is not None:
        client.close()
        cluster.close()
    if args.plot:
        save_plot(rows, args.plot)
        print(f"plot saved to {args.plot}")


def save_plot(rows: list[tuple[int, float, float, float, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r[0] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.plot(n, [r[1] for r in rows], "-o", label="local")
    left.plot(n, [r[2] for r in rows], "-s", label="LocalCluster")
    left.set(xscale="log", xlabel="instances", ylabel="instances / s", title="throughput")
    left.legend()
    traced = [r[3] for r in rows]
    if np.isfinite(traced).all():  # not with --no-trace
        right.plot(n, traced, "-o", label="traced peak (tracemalloc)")
    right.plot(n, [r[4] for r in rows], "-s", label="max RSS")
    top = max(value for r in rows for value in r[3:5] if np.isfinite(value))
    right.set(xscale="log", xlabel="instances", ylabel="MiB", title="peak memory of the driver", ylim=(0, 1.2 * top))
    right.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
