"""Many features, few queries: the default detector beside shapiq's KernelSHAPIQ, SPEX and ProxySPEX.

Each NID test function F1..F10 acts on 10 of the inputs; the other ``p - 10`` inputs add main
effects only (``sum_j c_j x_j``, ``c_j ~ N(0, 1)``), so the true pairs are the function's
interaction sets and every pair touching the other inputs is a negative. Per function, random
instances with independent random baselines are explained as mask games at ``p`` = 100 and 300
with 1000 and 3000 queries per instance: glider-plugins' default (``"auto"``: NID at these
budgets, since ArchDetect's design needs ``p**2 + p + 2``) through ``InteractionAttribution``,
and the peers on the same games. Prints the mean pairwise ROC AUC over all ``p (p - 1) / 2``
pairs, milliseconds per instance, and the default's ratios against each peer, all measured in
this run; ``--base-p 10`` also runs the NID functions alone (full-set AUC).

    python benchmarks/many_features.py [--p 100 300] [--budgets 1000 3000] [--functions F1 F4 F7] [--instances 1] [--peers KernelSHAPIQ SPEX ProxySPEX]
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
from tests.groundtruth.nid_functions import FUNCTIONS, mask_game, pairwise_auc  # noqa: E402

PEERS = ("KernelSHAPIQ", "SPEX", "ProxySPEX")
#: Largest p a peer is run at: KernelSHAPIQ at p = 300 was killed for memory on a 24 GiB machine
#: (its order-2 regression over all 44,850 pairs), so it is reported as not run there.
PEER_MAX_P = {"KernelSHAPIQ": 200}


def widened(fn, p: int, seed: int):
    """``fn`` on inputs 0..9 plus main effects on inputs 10..p-1, and a sampler of (n, p) inputs."""
    c = np.random.default_rng([seed, p]).normal(size=p - 10)

    def model(x: np.ndarray) -> np.ndarray:
        return fn(x[:, :10]) + x[:, 10:] @ c

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        return np.concatenate([fn.sample(n, rng), rng.uniform(-1, 1, size=(n, p - 10))], axis=1)

    return model, sample


def run_default(model, x: np.ndarray, baselines: np.ndarray, budget: int, seed: int) -> tuple[list[np.ndarray], float, str]:
    start = time.perf_counter()
    res = InteractionAttribution(model).attribute(x, baselines=baselines, n_samples=budget, seed=seed)
    return [res[i].pairwise() for i in range(len(x))], 1000 * (time.perf_counter() - start) / len(x), res.metadata["detector"]


def run_peer(name: str, model, x: np.ndarray, baselines: np.ndarray, budget: int, seed: int) -> tuple[list[np.ndarray], float]:
    import shapiq

    p = x.shape[1]
    matrices, start = [], time.perf_counter()
    for i in range(len(x)):
        game = mask_game(model, x[i], baselines[i])
        if name == "KernelSHAPIQ":
            approximator = shapiq.KernelSHAPIQ(n=p, max_order=2, index="k-SII", random_state=seed)
        else:
            approximator = getattr(shapiq, name)(n=p, max_order=2, index="FBII", random_state=seed)
        values = approximator.approximate(budget=budget, game=lambda coalitions, g=game: g(np.asarray(coalitions, dtype=bool)))
        pairs = np.zeros((p, p))
        for members, position in values.interaction_lookup.items():
            if len(members) == 2:
                a, b = members
                pairs[a, b] = pairs[b, a] = abs(values.values[position])
        matrices.append(pairs)
    return matrices, 1000 * (time.perf_counter() - start) / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--budgets", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS), choices=list(FUNCTIONS))
    parser.add_argument("--instances", type=int, default=1, help="random instances per function")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    print(f"NID functions {', '.join(args.functions)} on 10 of p inputs, main effects on the rest; "
          f"{args.instances} instance(s) per function; mean pairwise AUC over all pairs, ms per instance")
    print(f"{'p':>4} {'queries':>7} {'method':<22} {'AUC':>7} {'ms/instance':>12}   default vs it: AUC, speed")
    for p in args.p:
        for budget in args.budgets:
            results: dict[str, tuple[list[float], list[float]]] = {}
            label = "default"
            for k, name in enumerate(args.functions):
                fn = FUNCTIONS[name]
                model, sample = widened(fn, p, args.seed)
                rng = np.random.default_rng([args.seed, k, p])
                x, baselines = sample(args.instances, rng), sample(args.instances, rng)
                matrices, ms, chosen = run_default(model, x, baselines, budget, args.seed)
                label = f"glider default ({chosen})"
                entry = results.setdefault(label, ([], []))
                entry[0].extend(pairwise_auc(m, fn.interactions) for m in matrices)
                entry[1].append(ms)
                for peer in args.peers:
                    if p > PEER_MAX_P.get(peer, p):
                        continue
                    matrices, ms = run_peer(peer, model, x, baselines, budget, args.seed)
                    entry = results.setdefault(peer, ([], []))
                    entry[0].extend(pairwise_auc(m, fn.interactions) for m in matrices)
                    entry[1].append(ms)
            for peer in args.peers:
                if p > PEER_MAX_P.get(peer, p):
                    print(f"{p:>4} {budget:>7} {peer:<22}  not run: killed for memory at p = 300 on 24 GiB (PEER_MAX_P)")
            ours_auc, ours_ms = np.mean(results[label][0]), np.mean(results[label][1])
            for method, (aucs, times) in results.items():
                auc, ms = float(np.mean(aucs)), float(np.mean(times))
                versus = "" if method == label else f"   {ours_auc - auc:+.3f}, {ms / ours_ms:.1f}x {'(ahead)' if ours_auc >= auc and ours_ms <= ms else '(NOT ahead)'}"
                print(f"{p:>4} {budget:>7} {method:<22} {auc:>7.4f} {ms:>12.1f}{versus}", flush=True)


if __name__ == "__main__":
    main()
