"""``glider demo``: the whole pipeline on MovieLens-100K (or the census table) with a report."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

__all__ = ["demo_arguments", "demo_run"]


def demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="glider-demo", help="report folder (default: glider-demo)")
    parser.add_argument("--quick", action="store_true", help="fewer rows explained, seeds and epochs (the cross selection takes as long as in the full run)")
    parser.add_argument("--data", default="movielens", help="movielens (default: MovieLens-100K), census (the UCI Adult table), protein (KDD Cup 2004, 74 columns) or synthetic")
    parser.add_argument("--source", help="source model: a recommender trained here (autoint, the default for movielens and synthetic; "
                        "deepfm, ...), gbt (scikit-learn's gradient-boosted trees on the raw table, exported to ONNX and explained "
                        "as a user's own model would be; the default for census) or an ONNX file of your own")
    parser.add_argument("--source-output", help="with an ONNX file of several outputs: the one to explain")
    parser.add_argument("--k", type=int, default=10, help="global interactions encoded (default 10)")
    parser.add_argument("--detector", default="auto", help="auto (default: pure effects where their fit is faithful, else Banzhaf interactions; archdetect, moebius on screening rows or nid for wider tables), moebius, archdetect, fourier or nid (the paper's)")
    parser.add_argument("--n-instances", type=int, help="rows explained (default 500, --quick 200)")
    parser.add_argument("--controls", nargs="+", metavar="CONTROL", choices=("+random", "+all-pairs", "+fast", "+labels"),
                        help="the control lists (default: +random +all-pairs +fast; +labels: pairs ranked by cross value on "
                             "the training labels, a data-only ranking)")
    parser.add_argument("--ranking", choices=("source-and-labels", "cross-value", "frequency"), default="source-and-labels",
                        help="how the candidate crosses are ranked: source-and-labels (default: the cross-value list and "
                             "the pairs of highest cross value on the training labels, taken in turn), cross-value (every "
                             "pair and GLIDER's larger groups by what their ids explain of the source model's non-additive "
                             "output) or frequency (GLIDER's counts, the paper's)")
    parser.add_argument("--quiet", action="store_true", help="warnings only: no progress bars or step lines")
    parser.add_argument("--targets", nargs="+", metavar="MODEL",
                        help="target recommenders retrained with and without the crosses (default: all five, "
                             "widedeep deepfm dcn xdeepfm autoint; xDeepFM's CIN is the slowest on wide tables)")
    parser.add_argument("--workers", type=int, default=2, help="processes training the target models side by side (default 2)")


def demo_run(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from ..pipeline import prepare_data, run_pipeline
    from ..pipeline.run import check_target_models
    from ..pipeline.tree_source import TREE_SOURCE_OPTIONS, train_tree_source

    options: dict[str, Any] = {"n_instances": 200, "seeds": (0,), "epochs": 3} if args.quick else {"n_instances": 500, "seeds": (0, 1, 2), "epochs": 5}
    if args.targets:  # checked before any work (the tree source trains for minutes)
        check_target_models(args.targets, "--targets")
        options["target_models"] = tuple(args.targets)
    if args.controls:
        options["controls"] = tuple(args.controls)
    if args.n_instances is not None:
        options["n_instances"] = args.n_instances
    source = args.source or ("gbt" if str(args.data).lower() in ("census", "protein") else "autoint")
    data: Any = args.data
    if source == "gbt":
        data = prepare_data(args.data)
        print(f"training the gbt source model on {len(data.train)} rows of {data.name}", file=sys.stderr, flush=True)
        source = str(train_tree_source(data, Path(args.out) / "source_gbt.onnx"))
        options["source_options"] = TREE_SOURCE_OPTIONS
    elif args.source_output:
        options["source_options"] = {"output_name": args.source_output}
    result = run_pipeline(data, source_model=source, k=args.k, detector=args.detector, out=args.out, show_progress=not args.quiet,
                          workers=args.workers, ranking=args.ranking, **options)
    print("global interactions encoded: " + (", ".join(result.cross_names()["+glider"]) or "none"), file=out)
    chosen = result.recommended
    if chosen is not None:
        print(f"crosses to use: {chosen}'s ({', '.join(result.cross_names()[chosen]) or 'none'}; "
              f"held-out log loss after the selection: {result.recommendation_reasons()})", file=out)
    print(result.format_table(), file=out)
    times = ", ".join(f"{key} {value:.0f}s" for key, value in result.timings.items())
    print(f"timings: {times}\nreport: {args.out}/report.html", file=out)
    return 0
