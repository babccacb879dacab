"""The ``glider`` command. Thin: every subcommand calls the public API and prints.

Subcommands register themselves in :data:`COMMANDS` (name -> ``(help, add_arguments, run)``), so a
new one is a function pair and a line, not a change to :func:`main`.

``glider plugins``
    Table of every registered perturbation scheme, detector, encoder and adapter, with the plugin
    (and installed distribution) that provides it.
``glider explain MODEL --data FILE [--rows 0,5-9]``
    The strongest interactions of chosen rows of a table.
``glider global MODEL --data FILE --out interactions.json``
    GLIDER's global interactions over (a sample of) the rows.
``glider encode --interactions interactions.json --data FILE --out FILE``
    The table with one cross-feature column per top interaction appended.
``glider demo [--out DIR] [--quick] [--data census] [--source gbt|deepfm|FILE.onnx]``
    The whole pipeline on MovieLens-100K (or the census table): table printed, HTML/PNG report written.

MODEL is an ONNX file with inputs ``(cat_ids (N, F) int64, dense (N, D) float32)``; FILE a CSV or
Parquet table. How columns map onto the inputs: :mod:`glider_plugins.pipeline.tabular` (by name for
models the pipeline exported, else ``--categorical``/``--dense``, else the non-``label`` columns in
order: F id columns, then D dense columns).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO

__all__ = ["COMMANDS", "build_parser", "main"]


# ------------------------------------------------------------------------------------ glider plugins
def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    from .plugins import KINDS

    parser.add_argument("--kind", choices=KINDS, action="append", help="only this kind (repeatable); default: all")


def _plugins_run(args: argparse.Namespace, out: TextIO) -> int:
    from .plugins import BLOCK_ENV, KINDS, blocked_plugins, plugin_distributions, registrations

    kinds = args.kind or list(KINDS)
    distributions = plugin_distributions()
    rows: list[tuple[str, ...]] = []
    conflicts = 0
    for kind in kinds:
        entries = registrations(kind)
        counts: dict[str, int] = {}
        for name, _ in entries:
            counts[name] = counts.get(name, 0) + 1
        for name, plugin in entries:
            note = "CONFLICT" if counts[name] > 1 else ""
            conflicts += counts[name] > 1
            rows.append((kind, name, plugin, distributions.get(plugin, "?"), note))
    header = ("KIND", "NAME", "PLUGIN", "DISTRIBUTION", "")
    _print_table(header, rows, out)
    blocked = blocked_plugins()
    if blocked:
        print(f"\nblocked by {BLOCK_ENV}: {', '.join(blocked)}", file=out)
    if conflicts:
        print("\nnames marked CONFLICT are registered by several plugins; uninstall or block all but one", file=out)
        return 1
    return 0


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


# ---------------------------------------------------------------------- model + table (explain, global)
def _columns(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _model_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an ONNX model with inputs (cat_ids (N, F) int64, dense (N, D) float32)")
    parser.add_argument("--data", required=True, help="CSV or Parquet table of the model's inputs")
    parser.add_argument("--categorical", help="comma-separated id columns, in input order (default: see `glider --help`)")
    parser.add_argument("--dense", help="comma-separated dense columns, in input order")
    parser.add_argument("--label", default="label", help="column that is not a feature (default: label)")
    parser.add_argument("--detector", default="auto", help="local detector: auto (default: moebius where --n-samples fits sets of three, archdetect where only its p^2+p+2 queries fit, nid beyond), moebius, archdetect or nid")
    parser.add_argument("--n-samples", type=int, default=300, help="queries per row for nid and moebius, and the budget auto chooses by (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples and perturbations (default 0)")


def _load_inputs(args: argparse.Namespace):
    from .pipeline import model_fields, read_table, table_inputs

    fields = model_fields(args.model)
    frame = read_table(args.data, "--data")
    inputs = table_inputs(frame, fields, _columns(args.categorical), _columns(args.dense), args.label)
    if fields.cardinalities is None:  # no vocabulary to check ids against: ask the model itself
        _check_model_takes(args.model, inputs)
    return inputs


def _check_model_takes(model: str, inputs: Any) -> None:
    """Score every row once; where the model raises, find the first failing row (bisection) and
    the column whose id it rejects (set to 0, the row passes), and name both."""
    from .adapters import adapt
    from .errors import InputError, ModelError

    scores = adapt(model)

    def fails(rows: slice, cat: Any = None) -> Exception | None:
        try:
            scores((inputs.cat[rows] if cat is None else cat, inputs.dense[rows]))
        except ModelError as exc:
            return exc
        return None

    first = fails(slice(None))
    if first is None:
        return
    low, high = 0, inputs.cat.shape[0]
    while high - low > 1:  # the failing rows lie in [low, high)
        middle = (low + high) // 2
        low, high = (low, middle) if fails(slice(low, middle)) is not None else (middle, high)
    row = inputs.cat[low : low + 1]
    for j, name in enumerate(inputs.cat_names):
        trial = row.copy()
        trial[0, j] = 0
        if fails(slice(low, low + 1), trial) is None:
            raise InputError(f"data: column {name!r} has id {int(row[0, j])} (row {low}) that the model rejects: outside its "
                             f"vocabulary? (the model has no vocabulary metadata to check against; its error: {first})")
    raise InputError(f"data: the model fails on row {low} of the table ({first})")


def _check_out(path: str | None, arg: str = "--out") -> None:
    """Fail before any work when ``path``'s folder does not exist."""
    from pathlib import Path

    from .errors import InputError

    if path is not None and not Path(path).resolve().parent.is_dir():
        raise InputError(f"{arg}: the folder {str(Path(path).parent)!r} does not exist; create it first")


def _detector_options(args: argparse.Namespace) -> dict:
    return {"n_samples": args.n_samples} if args.detector in ("nid", "moebius", "auto") else {}


def _rows(text: str | None, n: int) -> list[int]:
    from .errors import InputError

    if not text:
        return list(range(min(n, 5)))
    rows: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            start, stop = int(first), int(last if dash else first)
        except ValueError:
            raise InputError(f"--rows: expected indices like 0,3,5-9, got {part.strip()!r} in {text!r}") from None
        if stop < start:
            raise InputError(f"--rows: the range {part.strip()!r} is empty (its end comes before its start)")
        rows.extend(range(start, stop + 1))
    outside = [r for r in rows if not 0 <= r < n]
    if outside:
        raise InputError(f"--rows: rows {outside[:5]} are outside the table's 0..{n - 1}")
    return rows


def _explain_arguments(parser: argparse.ArgumentParser) -> None:
    _model_data_arguments(parser)
    parser.add_argument("--rows", help="rows to explain, e.g. 0,3,5-9 (default: the first 5)")
    parser.add_argument("--top-k", type=int, default=5, help="interactions printed per row (default 5)")
    parser.add_argument("--out", help="also write the long table (instance, rank, names, strength) to CSV/Parquet")


def _explain_run(args: argparse.Namespace, out: TextIO) -> int:
    from .attribution import InteractionAttribution
    from .pipeline import write_table

    _check_out(args.out)
    inputs = _load_inputs(args)
    rows = _rows(args.rows, inputs.cat.shape[0])
    explainer = InteractionAttribution(args.model, detector=args.detector)
    result = explainer.attribute_interactions(
        (inputs.cat[rows], inputs.dense[rows]), baselines=(0, 0.0), feature_mask=inputs.feature_mask(), top_k=args.top_k,
        seed=args.seed, feature_names=inputs.feature_names, show_progress=len(rows) > 20, **_detector_options(args),
    )
    table = result.to_dataframe(args.top_k)
    table["instance"] = [rows[i] for i in table["instance"]]
    for row, group in table.groupby("instance", sort=False):
        print(f"row {row}:", file=out)
        for item in group.itertuples():
            print(f"  {item.rank + 1:>2}. {item.names:<40} {item.strength:.4g}", file=out)
    if args.out:
        write_table(table.assign(features=table["features"].map(str)), args.out)
    return 0


def _global_arguments(parser: argparse.ArgumentParser) -> None:
    _model_data_arguments(parser)
    parser.add_argument("--out", required=True, help="the interactions JSON file to write")
    parser.add_argument("--n-instances", type=int, help="explain a seeded sample of this many rows (default: all)")
    parser.add_argument("--top-k", type=int, default=10, help="interactions kept per row (default 10)")
    parser.add_argument("--show", type=int, default=10, help="global interactions printed (default 10)")


def _global_run(args: argparse.Namespace, out: TextIO) -> int:
    from .glider import Glider

    _check_out(args.out)
    inputs = _load_inputs(args)
    interactions = Glider(args.model, detector=args.detector).detect(
        (inputs.cat, inputs.dense), n_instances=args.n_instances, top_k=args.top_k, baselines=(0, 0.0),
        feature_mask=inputs.feature_mask(), feature_names=inputs.feature_names, seed=args.seed, **_detector_options(args),
    )
    interactions.to_json(args.out, indent=1)
    shown = interactions.to_dataframe(min(args.show, max(len(interactions), 1))) if len(interactions) else None
    if shown is not None:
        for item in shown.itertuples():
            print(f"{item.names:<40} count {item.count:>6}  frequency {item.frequency:.3f}", file=out)
    print(f"wrote {len(interactions)} interactions over {interactions.n_instances} rows to {args.out}", file=out)
    return 0


# ---------------------------------------------------------------------------------------- encode
def _encode_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interactions", required=True, help="interactions JSON written by `glider global`")
    parser.add_argument("--data", required=True, help="CSV or Parquet table holding the interactions' columns")
    parser.add_argument("--out", required=True, help="CSV or Parquet: the table with the cross columns appended")
    parser.add_argument("--k", type=int, default=10, help="top interactions to encode (default 10)")
    parser.add_argument("--min-count", type=int, default=10, help="rows a combination needs for its own id (default 10)")
    parser.add_argument("--missing-value", type=int, default=0, help="id meaning missing in categorical columns (default 0)")
    parser.add_argument("--dense", nargs="*", default=None, metavar="COLUMN",
                        help="columns to quantile-bin before crossing (default: numeric columns with more than 100 "
                             "distinct values or with fractions; --dense with no column: none)")
    parser.add_argument("--valid", default=None, metavar="TABLE",
                        help="held-out rows with labels: keep only the crosses among the top 3k that lower a logistic "
                             "regression's log loss on them (at most --k), and write the report next to --out")
    parser.add_argument("--label", default="label", help="the label column of --data and --valid (with --valid; default label)")


def _encode_run(args: argparse.Namespace, out: TextIO) -> int:
    from .encoders.cross import CrossFeatureEncoder
    from .errors import InputError
    from .global_results import GlobalInteractions
    from .pipeline import read_table, write_table

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
    for name, size, support in zip(encoder.get_feature_names_out(), encoder.cardinalities_, encoder.support_, strict=True):
        print(f"{name:<40} {int(size)} ids, {support:.1%} of rows with their own id", file=out)
    print(f"wrote {len(frame)} rows with {crosses.shape[1]} cross columns to {args.out}", file=out)
    return 0


def _selected_groups(args: argparse.Namespace, frame: Any, interactions: Any, dense: Any, out: TextIO) -> list[tuple[str, ...]]:
    """``--valid``: the top ``3 k`` of ``interactions`` that pass :func:`select_crosses`; the report
    (with GLIDER's counts and strengths) is written beside ``--out`` as ``<out stem>.selection.csv``."""
    from pathlib import Path

    from .encoders.selection import select_crosses
    from .errors import InputError
    from .pipeline import read_table

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


# ------------------------------------------------------------------------------------------ demo
def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="glider-demo", help="report folder (default: glider-demo)")
    parser.add_argument("--quick", action="store_true", help="fewer rows explained, seeds and epochs (the cross selection takes as long as in the full run)")
    parser.add_argument("--data", default="movielens", help="movielens (default: MovieLens-100K), census (the UCI Adult table) or synthetic")
    parser.add_argument("--source", help="source model: a recommender trained here (autoint, the default for movielens and synthetic; "
                        "deepfm, ...), gbt (scikit-learn's gradient-boosted trees on the raw table, exported to ONNX and explained "
                        "as a user's own model would be; the default for census) or an ONNX file of your own")
    parser.add_argument("--source-output", help="with an ONNX file of several outputs: the one to explain")
    parser.add_argument("--k", type=int, default=10, help="global interactions encoded (default 10)")
    parser.add_argument("--detector", default="auto", help="auto (default: moebius where the samples fit sets of three, archdetect where only its p^2+p+2 queries fit, nid beyond), moebius, archdetect or nid (the paper's)")
    parser.add_argument("--n-instances", type=int, help="rows explained (default 500, --quick 200)")


def _demo_run(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from .pipeline import prepare_data, run_pipeline
    from .pipeline.tree_source import TREE_SOURCE_OPTIONS, train_tree_source

    options: dict[str, Any] = {"n_instances": 200, "seeds": (0,), "epochs": 3} if args.quick else {"n_instances": 500, "seeds": (0, 1, 2), "epochs": 5}
    if args.n_instances is not None:
        options["n_instances"] = args.n_instances
    source = args.source or ("gbt" if str(args.data).lower() == "census" else "autoint")
    data: Any = args.data
    if source == "gbt":
        data = prepare_data(args.data)
        print(f"training the gbt source model on {len(data.train)} rows of {data.name}", file=sys.stderr, flush=True)
        source = str(train_tree_source(data, Path(args.out) / "source_gbt.onnx"))
        options["source_options"] = TREE_SOURCE_OPTIONS
    elif args.source_output:
        options["source_options"] = {"output_name": args.source_output}
    result = run_pipeline(data, source_model=source, k=args.k, detector=args.detector, out=args.out, **options)
    print("global interactions encoded: " + (", ".join(result.cross_names()["+glider"]) or "none"), file=out)
    print(result.format_table(), file=out)
    times = ", ".join(f"{key} {value:.0f}s" for key, value in result.timings.items())
    print(f"timings: {times}\nreport: {args.out}/report.html", file=out)
    return 0


#: Subcommands: name -> (help, add_arguments(parser), run(args, out) -> exit status).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace, TextIO], int]]] = {
    "plugins": ("list registered perturbations, detectors, encoders and adapters", _plugins_arguments, _plugins_run),
    "explain": ("top interactions of chosen rows of a table, for an ONNX model", _explain_arguments, _explain_run),
    "global": ("GLIDER global interactions of an ONNX model over a table, written as JSON", _global_arguments, _global_run),
    "encode": ("append cross-feature columns for the top interactions of an interactions JSON", _encode_arguments, _encode_run),
    "demo": ("the whole pipeline on MovieLens-100K (or the census table): AUC table and an HTML/PNG report", _demo_arguments, _demo_run),
}


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per entry of :data:`COMMANDS`."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="glider", description="Feature-interaction detection (MADEX/GLIDER) with plugins.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(command)
        command.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``glider`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    out : text stream, optional
        Where to print; default ``sys.stdout``.
    """
    from .errors import GliderError

    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            status = int(args.run(args, out or sys.stdout))
        except GliderError as exc:
            print(f"glider {args.command}: error: {exc}", file=sys.stderr)
            status = 2
    for warning in caught:  # one line each, without our source lines
        print(f"glider {args.command}: warning: {warning.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
