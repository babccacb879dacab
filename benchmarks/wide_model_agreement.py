"""Past exact enumeration: does a detector's answer at a small budget match a large-budget consensus?

At 39 fields no model's exact interactions can be enumerated (2**39 masks). This benchmark takes the
39-field DeepFM of ``benchmarks/ctr_onnx.py`` (trained on Criteo-like clicks, served by
onnxruntime), explains ``--rows`` rows at 3000 queries with ArchDetect (its design fits: 1562
queries) and with NID, which agree with each other on most rows' top 3, and prints for each detector
at the smaller budgets the share of each row's top 3 interactions also in each 3000-query top 3,
with milliseconds per row. A proxy, not ground truth: two different methods agreeing at a large
budget.

    python benchmarks/wide_model_agreement.py [--rows 100] [--budgets 300 1000] [--detectors auto nid]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ctr_onnx import SMALL_SIZE, trained_ctr_onnx  # noqa: E402
from glider_plugins import InteractionAttribution  # noqa: E402

REFERENCE_BUDGET = 3000
REFERENCES = ("archdetect", "nid")


def top3_overlap(first, second) -> float:
    """Mean share of a row's top 3 interactions in ``first`` that are also in its top 3 in ``second``."""
    return float(np.mean([len({s for s, _ in a.interactions[:3]} & {s for s, _ in b.interactions[:3]}) / 3 for a, b in zip(first, second, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--budgets", type=int, nargs="+", default=[300, 1000])
    parser.add_argument("--detectors", nargs="+", default=["auto", "nid"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    model, data, _ = trained_ctr_onnx(args.rows, seed=args.seed, size=SMALL_SIZE)
    references = {name: InteractionAttribution(model, detector=name).attribute_interactions(data, n_samples=REFERENCE_BUDGET, seed=args.seed + 1)
                  for name in REFERENCES}
    print(f"39-field ONNX DeepFM, {args.rows} rows; references at {REFERENCE_BUDGET} queries (seed {args.seed + 1}): "
          f"ArchDetect and NID share {top3_overlap(*references.values()):.2f} of each row's top 3")
    print(f"{'detector':<24} {'queries':>7} " + " ".join(f"{'vs ' + name:>14}" for name in REFERENCES) + f" {'ms/row':>8}")
    for budget in args.budgets:
        for name in args.detectors:
            start = time.perf_counter()
            res = InteractionAttribution(model, detector=name).attribute_interactions(data, n_samples=budget, seed=args.seed)
            ms = 1000 * (time.perf_counter() - start) / args.rows
            label = f"{name} ({res.metadata['detector']})" if name == "auto" else name
            overlaps = " ".join(f"{top3_overlap(res, ref):>14.2f}" for ref in references.values())
            print(f"{label:<24} {budget:>7} {overlaps} {ms:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
