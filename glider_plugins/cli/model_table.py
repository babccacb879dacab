"""MODEL + ``--data``: the options ``glider explain`` and ``glider global`` share, and the table cut
into the model's inputs with the baselines, feature mask and target they are explained with.

The mapping rule is :mod:`glider_plugins.pipeline.model_inputs` (any model) or
:mod:`glider_plugins.pipeline.tabular` (the ``(cat_ids, dense)`` recommenders).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelError
from ..pipeline.model_inputs import MappedInputs

__all__ = ["ModelTable", "detector_options", "load_model_table", "model_data_arguments"]

#: Rows scored to check ``--target``/``--output-name`` when the ids need no check against the model.
PROBE_ROWS = 64


def model_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Add MODEL, ``--data`` and the mapping, baseline, target and detector options."""
    parser.add_argument("model", help="an ONNX file, a TorchScript file (.pt, .pth, .ts) or a Keras file (.keras, .h5)")
    parser.add_argument("--data", required=True, help="CSV or Parquet table of the model's inputs")
    parser.add_argument("--inputs", metavar="SPEC", help="which columns feed which input: 'x=a,b,c;ids=u,v' (one input: 'a,b,c'; "
                        "'ids:int=u,v' for a model that does not declare its dtypes). Default: inputs named like a column take it, "
                        "the others take the remaining columns in table order (see `glider --help`)")
    parser.add_argument("--categorical", help="(cat_ids, dense) recommenders: comma-separated id columns, in input order")
    parser.add_argument("--dense", help="(cat_ids, dense) recommenders: comma-separated dense columns, in input order")
    parser.add_argument("--label", default="label", help="column that is not a feature (default: label)")
    parser.add_argument("--feature-groups", metavar="SPEC", help="columns explained as one feature: 'a,b;c,d' (two features a+b and c+d)")
    parser.add_argument("--baseline", default="auto", metavar="KIND|FILE", help="value of an 'off' feature: auto (default: zeros for "
                        "(cat_ids, dense) recommenders, else median of float and mode of id columns), median, mean, mode, zeros, "
                        "or a one-row CSV/Parquet file of the columns")
    parser.add_argument("--target", help="the column of the model's output to explain: an index, e.g. 1 of (N, 2) "
                        "probabilities, or a class label an ONNX classifier reports (its ZipMap keys) (default: the model's only score)")
    parser.add_argument("--output-name", help="the model output to explain when it has several (name, or position 0, 1, ...)")
    parser.add_argument("--detector", default="auto", help="local detector: auto (default: where --n-samples fits sets of three, the pure effects when "
                        "their fit is faithful, else the pairs' Banzhaf and Shapley interactions; archdetect where only its "
                        "p^2+p+2 queries fit; moebius on its 2p+2 screening rows and random masks beyond; nid where even those "
                        "do not fit), moebius, fourier, archdetect or nid")
    parser.add_argument("--n-samples", type=int, default=300, help="queries per row at most (default 300); archdetect "
                        "takes exactly its p^2+p+2, a smaller budget is refused")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples and perturbations (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@dataclass
class ModelTable:
    """What the model is explained on.

    Attributes
    ----------
    model : str
        The model file (sent as it is to ``InteractionAttribution``/``Glider`` and to workers).
    options : dict
        Adapter options (``output_name``).
    mapped : MappedInputs
        The table cut into the model's inputs.
    baselines : tuple of numpy.ndarray
        One baseline row per input.
    feature_mask : tuple of numpy.ndarray
    feature_names : tuple of str
    target : int or None
    baseline : str
        What the baselines are, e.g. ``"auto: median of float, mode of id columns"``.
    adapter : ModelAdapter
        The model as queried here (scores of rows and of the baseline).
    """

    model: str
    options: dict[str, Any]
    mapped: MappedInputs
    baselines: tuple[np.ndarray, ...]
    feature_mask: tuple[np.ndarray, ...]
    feature_names: tuple[str, ...]
    target: int | None
    baseline: str
    adapter: Any = field(repr=False)

    def scores(self, rows: Any = None) -> np.ndarray:
        """The explained score (the ``--target`` column of the ``--output-name`` output) of ``rows``."""
        return self.adapter(self.mapped.take(rows), target=self.target)

    def baseline_score(self) -> float:
        """The explained score of the baseline row."""
        return float(self.adapter(self.baselines, target=self.target)[0])


def load_model_table(args: argparse.Namespace) -> ModelTable:
    """Load the model and ``--data`` and cut the table into the model's inputs (checked once).

    Raises
    ------
    InputError
        Naming the option or column at fault.
    """
    from ..adapters import adapt
    from ..pipeline import read_table
    from ..pipeline.baselines import table_baselines
    from ..pipeline.model_inputs import feature_groups

    if not Path(args.model).exists():
        raise InputError(f"model: no such file {args.model!r}")
    options = _adapter_options(args)
    adapter = adapt(args.model)
    if options:  # checked here to name the option; an ONNX session is reused, not loaded again
        _check_output_name(adapter, options.get("output_name"))
        adapter = adapt(getattr(adapter, "session", args.model), **options)
    frame = read_table(args.data, "--data")
    recommender = _is_recommender(adapter, args)
    mapped, checked = _recommender_inputs(args, frame, adapter) if recommender else _any_inputs(args, frame, adapter)
    mask, names = mapped.feature_layout(feature_groups(args.feature_groups))
    baselines = table_baselines(mapped, args.baseline, recommender)
    scores = _probe(adapter, mapped, baselines, all_rows=not checked)
    target = _target_index(args.target, adapter)
    _check_target(scores, target)
    _check_baseline_scores(adapter, baselines, args.baseline)
    described = _describe_baseline(args.baseline, mapped, recommender)
    return ModelTable(str(args.model), options, mapped, baselines, mask, names, target, described, adapter)


def _target_index(target: str | int | None, adapter: Any) -> int | None:
    """``--target`` as a column index: an integer as it is, a class label by its place among the
    classes the model reports (``output_classes_``, known once the model has been queried)."""
    if target is None or isinstance(target, int):
        return target
    try:
        return int(target)
    except ValueError:
        pass
    classes = [str(c) for c in getattr(adapter, "output_classes_", None) or []]
    if target in classes:
        return classes.index(target)
    if not classes:
        raise InputError(f"--target: {target!r} is not an index, and the model reports no class labels to look it up in; pass 0, 1, ...")
    raise InputError(f"--target: the model reports no class {target!r}; its classes are {classes} (or pass an index 0..{len(classes) - 1})")


def _check_baseline_scores(adapter: Any, baselines: tuple[np.ndarray, ...], how: str) -> None:
    """The model scores the baseline row (a ``--baseline`` file may hold ids it rejects)."""
    try:
        adapter.predict(baselines)
    except ModelError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"--baseline: the model rejects the baseline row of {how!r} ({reason})") from exc


def _describe_baseline(how: str, mapped: MappedInputs, recommender: bool) -> str:
    if how != "auto":
        return how
    kinds = {i.kind for i in mapped.inputs}
    if recommender:
        return "auto: zeros"
    return "auto: " + ", ".join(text for kind, text in (("float", "median of float"), ("int", "mode of id")) if kind in kinds) + " columns"


def detector_options(args: argparse.Namespace) -> dict[str, Any]:
    """``n_samples``: the budget every detector keeps (or refuses before any query)."""
    return {"n_samples": args.n_samples}


def _adapter_options(args: argparse.Namespace) -> dict[str, Any]:
    name = args.output_name
    if name is None:
        return {}
    return {"output_name": int(name) if name.lstrip("-").isdigit() else name}


def _check_output_name(adapter: Any, name: str | int | None) -> None:
    outputs = getattr(adapter, "output_names", None)  # ONNX models list theirs
    if name is None or outputs is None:
        return
    if isinstance(name, str) and name not in outputs:
        raise InputError(f"--output-name: {name!r} is not an output of the model; its outputs are {outputs}")
    if isinstance(name, int) and not -len(outputs) <= name < len(outputs):
        raise InputError(f"--output-name: position {name} is out of range; the model has {len(outputs)} outputs {outputs}")


def _is_recommender(adapter: Any, args: argparse.Namespace) -> bool:
    """The recommenders' signature: two rank-2 ONNX inputs, integer ids then floats, named
    ``cat_ids`` and ``dense`` or described by the pipeline's metadata (or ``--categorical``/``--dense``
    given). Other models, two-input ones too, follow the general mapping."""
    legacy = args.categorical is not None or args.dense is not None
    if legacy and args.inputs:
        raise InputError("--inputs: give either --inputs or --categorical/--dense (for (cat_ids, dense) recommenders), not both")
    if legacy and adapter.framework != "onnx":
        raise InputError(f"--categorical/--dense: only for (cat_ids, dense) ONNX recommenders; this is a {adapter.framework} "
                         "model: name its inputs' columns with --inputs")
    if legacy:
        return True
    specs = adapter.input_specs() if adapter.framework == "onnx" else None
    if args.inputs or not specs or len(specs) != 2 or any(s.shape is None or len(s.shape) != 2 or s.dtype is None for s in specs):
        return False
    if not (specs[0].dtype.kind in "iu" and specs[1].dtype.kind == "f"):
        return False
    from ..pipeline.tabular import META_CAT

    named = (specs[0].name, specs[1].name) == ("cat_ids", "dense")
    return named or META_CAT in adapter.session.get_modelmeta().custom_metadata_map


def _recommender_inputs(args: argparse.Namespace, frame: Any, adapter: Any) -> tuple[MappedInputs, bool]:
    from ..pipeline import model_fields, table_inputs
    from ..pipeline.model_inputs import from_table_inputs, parse_columns

    fields = model_fields(args.model)
    table = table_inputs(frame, fields, parse_columns(args.categorical), parse_columns(args.dense), args.label)
    names = [s.name for s in adapter.input_specs() or ()] or ["cat_ids", "dense"]
    return from_table_inputs(table, names), fields.cardinalities is not None


def _any_inputs(args: argparse.Namespace, frame: Any, adapter: Any) -> tuple[MappedInputs, bool]:
    from ..pipeline.model_inputs import map_table

    mapped = map_table(frame, adapter.input_specs(), args.inputs, args.label)
    return mapped, not any(i.kind == "int" for i in mapped.inputs)


def _probe(adapter: Any, mapped: MappedInputs, baselines: tuple[np.ndarray, ...], all_rows: bool) -> np.ndarray:
    """The model's raw scores of (the first rows of) the table. Where it raises, find the first
    failing row (bisection) and the id column whose value it rejects (set to its baseline, the row
    passes), and name both."""

    def fails(rows: slice, arrays: tuple[np.ndarray, ...] | None = None) -> ModelError | None:
        try:
            adapter.predict(mapped.take(rows) if arrays is None else arrays)
        except ModelError as exc:
            return exc
        return None

    rows = slice(None) if all_rows else slice(0, PROBE_ROWS)
    try:
        return adapter.predict(mapped.take(rows))
    except ModelError as exc:
        first = exc
    low, high = 0, min(mapped.n_rows, PROBE_ROWS) if not all_rows else mapped.n_rows
    while high - low > 1:  # the failing rows lie in [low, high)
        middle = (low + high) // 2
        low, high = (low, middle) if fails(slice(low, middle)) is not None else (middle, high)
    row = mapped.take(slice(low, low + 1))
    for k, spec in enumerate(mapped.inputs):
        if spec.kind != "int":
            continue
        for j, name in enumerate(spec.columns):
            trial = tuple(a.copy() for a in row)
            trial[k].reshape(1, -1)[0, j] = np.asarray(baselines[k]).reshape(-1)[j]
            if fails(slice(low, low + 1), trial) is None:
                value = int(row[k].reshape(1, -1)[0, j])
                raise InputError(f"data: column {name!r} has id {value} (row {low}) that the model rejects: outside its "
                                 f"vocabulary? (the model has no vocabulary metadata to check against; its error: {first})")
    raise InputError(f"data: the model fails on row {low} of the table ({first})")


def _check_target(scores: np.ndarray, target: int | None) -> None:
    per_row = scores.shape[1:]
    width = int(np.prod(per_row)) if per_row else 1
    if len(per_row) > 1:
        raise InputError(f"--output-name: the model's output has shape {per_row} per row; choose an output of one score "
                         "or one score per class per row")
    if target is None:
        if width > 1:
            raise InputError(f"--target: the model's output has {width} columns per row (e.g. one per class); choose one with --target 0..{width - 1}")
        return
    if width == 1 and target != 0:
        raise InputError(f"--target: {target} is out of range: the model gives one score per row (leave --target out)")
    if not -width <= target < width:
        raise InputError(f"--target: {target} is out of range: the model's output has {width} columns (0..{width - 1})")
