"""``glider explain`` (chosen rows) and ``glider global`` (GLIDER over the table) for any model."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any, TextIO

from ..errors import InputError
from ._common import check_out
from .model_table import ModelTable, detector_options, load_model_table, model_data_arguments

__all__ = ["explain_arguments", "explain_run", "global_arguments", "global_run"]


def explain_arguments(parser: argparse.ArgumentParser) -> None:
    model_data_arguments(parser)
    parser.add_argument("--rows", help="rows to explain, e.g. 0,3,5-9 (default: the first 5)")
    parser.add_argument("--top-k", type=int, default=5, help="interactions printed per row (default 5)")
    parser.add_argument("--out", help="also write the long table (instance, rank, names, strength) to CSV/Parquet")


def explain_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..explain.attribution import InteractionAttribution
    from ..pipeline import write_table

    check_out(args.out, table=True)
    table = load_model_table(args)
    rows = _rows(args.rows, table.mapped.n_rows)
    _header(table, out)
    explainer = InteractionAttribution(table.adapter, detector=args.detector)  # the model loaded once, options applied
    result = explainer.attribute_interactions(
        table.mapped.take(rows), baselines=table.baselines, target=table.target, feature_mask=table.feature_mask,
        top_k=args.top_k, seed=args.seed, feature_names=table.feature_names, show_progress=not args.quiet, **detector_options(args),
    )
    frame = result.to_dataframe(args.top_k)
    frame["instance"] = [rows[i] for i in frame["instance"]]
    scores = table.scores(rows)
    groups = dict(iter(frame.groupby("instance", sort=False)))
    for i, row in enumerate(rows):
        print(f"row {row}: score {scores[i]:.6g}", file=out)
        for item in groups[row].itertuples() if row in groups else ():
            print(f"  {item.rank + 1:>2}. {item.names:<40} {item.strength:.4g}", file=out)
    if args.out:
        write_table(frame.assign(features=frame["features"].map(str)), args.out, "--out")
    return 0


def global_arguments(parser: argparse.ArgumentParser) -> None:
    model_data_arguments(parser)
    parser.add_argument("--out", required=True, help="the interactions JSON file to write")
    parser.add_argument("--n-instances", type=int, help="explain a seeded sample of this many rows (default: all)")
    parser.add_argument("--top-k", type=int, default=10, help="interactions kept per row (default 10)")
    parser.add_argument("--show", type=int, default=10, help="global interactions printed (default 10)")
    parser.add_argument("--workers", metavar="N|ADDRESS", help="explain chunks of rows in parallel: N worker processes, or the "
                        "address of a Dask scheduler (tcp://host:8786; the workers must reach the model file)")
    parser.add_argument("--checkpoint", metavar="DIR", help="store each finished chunk here; rerunning with the same DIR resumes")
    parser.add_argument("--chunk-size", type=int, help="rows per batched detection call and checkpoint file (default: 8 to 128, "
                        "at least 8 chunks); the result does not depend on it")


def global_run(args: argparse.Namespace, out: TextIO) -> int:
    from ..glider import Glider

    check_out(args.out)
    with _executor(args.workers) as executor:  # a Dask address that cannot be reached fails before any work
        table = load_model_table(args)
        _header(table, out)
        glider = Glider(table.model, detector=args.detector, **table.options)
        interactions = glider.detect(
            table.mapped.arrays, n_instances=args.n_instances, top_k=args.top_k, baselines=table.baselines, target=table.target,
            feature_mask=table.feature_mask, feature_names=table.feature_names, seed=args.seed, show_progress=not args.quiet,
            executor=executor, checkpoint=args.checkpoint, chunk_size=_chunk_size(args.chunk_size, args.n_instances or table.mapped.n_rows),
            **detector_options(args),
        )
    interactions.to_json(args.out, indent=1)
    shown = interactions.to_dataframe(min(args.show, max(len(interactions), 1))) if len(interactions) else None
    if shown is not None:
        for item in shown.itertuples():
            print(f"{item.names:<40} count {item.count:>6}  frequency {item.frequency:.3f}", file=out)
    print(f"wrote {len(interactions)} interactions over {interactions.n_instances} rows to {args.out}", file=out)
    return 0


def _header(table: ModelTable, out: TextIO) -> None:
    """One line: the inputs, the features and the baseline with its score."""
    target = "" if table.target is None else f", target {table.target}"
    score = table.baseline_score()  # first call: the adapter knows which output it explains
    outputs = getattr(table.adapter, "output_names", None) or []
    chosen = f"; output {table.adapter.output_used_!r} of {outputs}" if len(outputs) > 1 else ""
    print(f"inputs: {table.mapped.describe()}; {len(table.feature_names)} features{chosen}; baseline {table.baseline} "
          f"(score {score:.6g}{target})", file=out)


def _chunk_size(given: int | None, n: int) -> int:
    """Rows per chunk: ``--chunk-size``, else at least 8 chunks of 8 to 128 rows, so that workers
    share the work and a checkpoint keeps its progress. It depends on the rows only (never on
    ``--workers``), so a checkpointed run resumes with any workers; the result does not depend on it."""
    if given is not None:
        return given
    return max(8, min(128, -(-n // 8)))


@contextlib.contextmanager
def _executor(workers: str | None) -> Iterator[Any]:
    """``None``, a spawn-context process pool of N workers, or a Dask client of a scheduler address."""
    if workers is None:
        yield None
        return
    if workers.isdigit():
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if int(workers) < 1:
            raise InputError(f"--workers: expected a number of processes >= 1 or a Dask scheduler address, got {workers!r}")
        with ProcessPoolExecutor(max_workers=int(workers), mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
        return
    if "://" not in workers:
        raise InputError(f"--workers: expected a number of processes (4) or a Dask scheduler address (tcp://host:8786), got {workers!r}")
    try:
        from distributed import Client
    except ImportError as exc:
        raise InputError(f"--workers: {workers!r} is a Dask scheduler address, which needs dask.distributed installed") from exc
    try:
        client = Client(workers, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--workers: cannot reach the Dask scheduler at {workers!r} ({type(exc).__name__}: {exc})") from exc
    with client:
        yield client


def _rows(text: str | None, n: int) -> list[int]:
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
