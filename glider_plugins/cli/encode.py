"""``glider encode``: cross-feature columns for the top interactions of an interactions JSON."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

__all__ = ["encode_arguments", "encode_run"]


def encode_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interactions", required=True, help="interactions JSON written by `glider global`")
    parser.add_argument("--data", required=True, help="CSV or Parquet table holding the interactions' columns")
    parser.add_argument("--out", required=True, help="CSV or Parquet: the table with the cross columns appended")
    parser.add_argument("--k", type=int, default=10, help="top interactions to encode (default 10)")
    parser.add_argument("--min-count", type=int, default=10, help="rows a combination needs for its own id (default 10)")
    parser.add_argument("--missing-value", type=int, default=None,
                        help="an id that means missing in categorical columns, e.g. 0 where ids start at 1 (default: none; "
                             "empty cells are always missing). A row with a missing parent gets cross id 0")
    parser.add_argument("--dense", nargs="*", default=None, metavar="COLUMN",
                        help="columns to quantile-bin before crossing (default: numeric columns with more than 100 "
                             "distinct values or with fractions; --dense with no column: none)")
    parser.add_argument("--valid", default=None, metavar="TABLE",
                        help="held-out rows with labels: keep only the crosses among the top 3k that lower a logistic "
                             "regression's log loss on them (at most --k), and write the report next to --out")
    parser.add_argument("--label", default="label", help="the label column of --data and --valid (with --valid; default label)")
    parser.add_argument("--quiet", action="store_true", help="warnings only: no step lines")
    parser.add_argument("--onnx", default=None, metavar="PATH",
                        help="also save the crosses as an ONNX graph (input X: the columns they read, as numbers; "
                             "output cross_ids), to compute them beside an ONNX recommender")


def encode_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..encoders.cross import CrossFeatureEncoder
    from ..errors import InputError
    from ..pipeline import read_table, write_table
    from ..results import GlobalInteractions

    try:
        interactions = GlobalInteractions.from_json(args.interactions)
    except FileNotFoundError as exc:
        raise InputError(f"--interactions: no such file {args.interactions!r}") from exc
    frame = read_table(args.data, "--data")
    pairs = interactions.top(3 * args.k if args.valid else args.k) if len(interactions) else []
    if not pairs:
        raise InputError(f"--interactions: {args.interactions!r} holds no interactions to encode")
    groups = [interactions.names_of(s) for s, _ in pairs]
    absent = sorted({name for g in groups for name in g if name not in frame.columns})
    if absent:
        raise InputError(f"--data: columns {absent} of the interactions are not in {args.data!r}; its columns are {list(frame.columns)}")
    dense = "auto" if args.dense is None else (args.dense or None)
    if args.valid:
        groups = _selected_groups(args, frame, interactions, dense, out)
        if not groups:
            write_table(frame, args.out)
            print(f"wrote {len(frame)} rows without cross columns to {args.out}", file=out)
            return 0
    encoder = CrossFeatureEncoder(groups, min_count=args.min_count, missing_value=args.missing_value, dense_features=dense)
    crosses = encoder.fit_transform(frame)
    write_table(frame.join(crosses), args.out)
    binned = [str(encoder.feature_names_in_[c]) for c in encoder.dense_features_]
    print(f"binned into up to {encoder.n_bins} quantile bins: {', '.join(binned) or 'none'}", file=out)
    missing = "empty cells" + ("" if args.missing_value is None else f" or id {args.missing_value}")
    for name, size, support in zip(encoder.get_feature_names_out(), encoder.cardinalities_, encoder.support_, strict=True):
        unknown = float((crosses[name] == 0).mean())
        print(f"{name:<40} {int(size)} ids; {unknown:.1%} of rows with a missing parent ({missing}: id 0), "
              f"{support:.1%} of the others with their own id", file=out)
    print(f"wrote {len(frame)} rows with {crosses.shape[1]} cross columns to {args.out}", file=out)
    if args.onnx:
        import json

        model = encoder.to_onnx(args.onnx)
        columns = json.loads({p.key: p.value for p in model.metadata_props}["input_columns"])
        print(f"wrote the ONNX graph of the crosses to {args.onnx} (input X: {', '.join(columns)}; output cross_ids)", file=out)
    return 0


def _selected_groups(args: argparse.Namespace, frame: Any, interactions: Any, dense: Any, out: TextIO) -> list[tuple[str, ...]]:
    """``--valid``: the top ``3 k`` of ``interactions`` that pass :func:`select_crosses`; the report
    (with GLIDER's counts and strengths) is written beside ``--out`` as ``<out stem>.selection.csv``."""
    from pathlib import Path

    from ..encoders.selection import select_crosses
    from ..errors import InputError
    from ..pipeline import read_table

    valid = read_table(args.valid, "--valid")
    for name, table in (("--data", frame), ("--valid", valid)):
        if args.label not in table.columns:
            raise InputError(f"{name}: no label column {args.label!r} (set it with --label); its columns are {list(table.columns)[:20]}")
    features = [c for c in frame.columns if c != args.label]
    absent = sorted(set(features) - set(valid.columns))
    if absent:
        raise InputError(f"--valid: columns {absent} of --data are not in {args.valid!r}")
    selection = select_crosses(interactions, frame[features], frame[args.label], valid[features], valid[args.label],
                               n_candidates=3 * args.k, max_crosses=args.k, min_count=args.min_count, dense_features=dense,
                               missing_value=args.missing_value)
    report = Path(args.out).with_suffix(".selection.csv")
    selection.report.to_csv(report, index=False)
    print(f"{selection}; report: {report}", file=out)
    return selection.kept
