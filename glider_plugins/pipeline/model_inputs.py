"""How a table's columns map onto any model's inputs (used by ``glider explain`` and ``glider global``).

The rule, for a model whose inputs are declared (ONNX, Keras; read with
:meth:`~glider_plugins.adapters.ModelAdapter.input_specs`), input by input in the model's order:

1. ``--inputs`` names the columns of an input: ``'x=a,b,c;ids=u,v'`` (inputs separated by ``;``,
   columns by ``,``). A model with one input also takes a bare column list ``'a,b,c'``. An input
   name may carry a kind, ``ids:int=u,v`` or ``x:float=a,b``, for models that do not declare
   their dtypes.
2. An input not given there whose name is a column and that takes one value per row (shape
   ``(N,)`` or ``(N, 1)``) takes that column.
3. The inputs left take the table's other columns (every column but ``--label`` and those used
   above) **in table order**: each as many as its width (``d`` of ``(N, d)``). One input of unknown
   width takes all that remain. The columns must be used up exactly.

A model that does not declare its inputs (a TorchScript file) takes the ``--inputs`` groups as its
positional inputs, in the order given, else one float input of every non-label column.

Integer inputs (ids) take integer columns; float inputs numeric columns, without missing values.
Every column is one feature; ``--feature-groups 'a,b;c,d'`` makes each group one feature, named
by its columns joined with ``+``. Features are numbered in column order (inputs in model order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..adapters.batch import InputSpec
from ..errors import InputError
from .tabular import TableInputs

__all__ = ["MappedInputs", "ModelInput", "feature_groups", "from_table_inputs", "map_table", "parse_columns", "parse_inputs"]

KINDS = ("int", "float")


@dataclass(frozen=True)
class ModelInput:
    """One model input and the table columns that fill it.

    Attributes
    ----------
    name : str
        The model's name of the input.
    kind : {"int", "float"}
        Integer ids or float values.
    columns : tuple of str
        Its columns, in element order.
    rank : int
        1 for an ``(N,)`` input (one column), 2 for ``(N, d)``.
    dtype : numpy.dtype
        The dtype its array is built with.
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    rank: int
    dtype: np.dtype


@dataclass(frozen=True)
class MappedInputs:
    """A table cut into a model's positional inputs.

    Attributes
    ----------
    inputs : tuple of ModelInput
    arrays : tuple of numpy.ndarray
        One per input, ``(N,)`` or ``(N, d)``, every row of the table.
    """

    inputs: tuple[ModelInput, ...]
    arrays: tuple[np.ndarray, ...]

    @property
    def n_rows(self) -> int:
        return int(self.arrays[0].shape[0])

    @property
    def columns(self) -> tuple[str, ...]:
        """Every mapped column, inputs in model order."""
        return tuple(c for i in self.inputs for c in i.columns)

    def take(self, rows: Sequence[int] | slice | None = None) -> tuple[np.ndarray, ...]:
        """The arrays of ``rows`` (all rows for ``None``)."""
        return self.arrays if rows is None else tuple(a[rows] for a in self.arrays)

    def describe(self) -> str:
        """``name (kind, k columns)`` per input, for messages and the command's header line."""
        return ", ".join(f"{i.name} ({i.kind}, {len(i.columns)} column{'s' * (len(i.columns) != 1)})" for i in self.inputs)

    def feature_layout(self, groups: Sequence[Sequence[str]] = ()) -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
        """Captum feature masks (one per input, broadcastable to it) and the feature names.

        Every column is a feature of its own, except that the columns of each group in
        ``groups`` share one feature (named ``a+b``). Raises :class:`InputError` naming
        ``--feature-groups`` for a column that is not mapped or is in two groups.
        """
        columns = self.columns
        owner: dict[str, int] = {}
        for g, group in enumerate(groups):
            for column in group:
                if column not in columns:
                    raise InputError(f"--feature-groups: column {column!r} is not one of the model's columns {list(columns)}")
                if column in owner:
                    raise InputError(f"--feature-groups: column {column!r} is in two groups")
                owner[column] = g
        def key(column: str) -> tuple[str, str | int]:  # a group and a column of any name never collide
            return ("group", owner[column]) if column in owner else ("column", column)

        ids: dict[tuple[str, str | int], int] = {}
        names: list[str] = []
        for column in columns:
            if key(column) not in ids:
                ids[key(column)] = len(names)
                names.append("+".join(groups[owner[column]]) if column in owner else column)
        masks = []
        for spec in self.inputs:
            mask = np.array([ids[key(c)] for c in spec.columns], dtype=np.int64)
            masks.append(mask if spec.rank == 1 else mask[None])
        return tuple(masks), tuple(names)


# ------------------------------------------------------------------------------------ spec parsing
def parse_columns(text: str | None) -> list[str] | None:
    """``'a, b,c'`` -> ``['a', 'b', 'c']``; ``None`` stays ``None``."""
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def parse_inputs(text: str) -> list[tuple[str | None, str | None, list[str]]]:
    """Parse an ``--inputs`` spec into ``(input name or None, kind or None, columns)`` entries.

    ``'x=a,b;ids:int=u'`` -> ``[("x", None, ["a", "b"]), ("ids", "int", ["u"])]``; a bare
    ``'a,b'`` -> ``[(None, None, ["a", "b"])]``.
    """
    entries: list[tuple[str | None, str | None, list[str]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, equals, columns = part.partition("=")
        if not equals:
            name, columns = "", part
        name, _, kind = name.strip().partition(":")
        kind = kind.strip() or None
        if kind is not None and kind not in KINDS:
            raise InputError(f"--inputs: kind {kind!r} of input {name!r} is unknown; use int or float (e.g. 'ids:int=u,v')")
        cols = parse_columns(columns) or []
        if not cols:
            raise InputError(f"--inputs: {part!r} names no columns; expected 'input=col1,col2;other=col3'")
        entries.append((name.strip() or None, kind, cols))
    if not entries:
        raise InputError(f"--inputs: {text!r} names no columns; expected 'input=col1,col2;other=col3'")
    if len(entries) > 1 and any(name is None for name, _, _ in entries):
        raise InputError(f"--inputs: with several inputs each needs its name, 'input=col1,col2;other=col3', got {text!r}")
    return entries


def feature_groups(text: str | None) -> list[list[str]]:
    """Parse ``--feature-groups 'a,b;c,d'`` into ``[['a', 'b'], ['c', 'd']]``."""
    if not text:
        return []
    groups = [parse_columns(part) or [] for part in text.split(";")]
    groups = [g for g in groups if g]
    if not groups:
        raise InputError(f"--feature-groups: {text!r} names no columns; expected 'a,b;c,d' (columns of one feature joined by ',')")
    return groups


# ---------------------------------------------------------------------------------- table -> inputs
def map_table(frame: pd.DataFrame, specs: Sequence[InputSpec] | None, inputs: str | None = None, label: str = "label") -> MappedInputs:
    """Cut ``frame`` into the inputs ``specs`` declares (rule: module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
    specs : sequence of InputSpec, or None
        The model's inputs in positional order; ``None`` when the model does not declare them.
    inputs : str, optional
        The ``--inputs`` spec.
    label : str, default "label"
        A column that is never a feature.

    Raises
    ------
    InputError
        Naming the option or column at fault: an input or column that does not exist, a column
        used twice, a width that does not match, a column of the wrong kind.
    """
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    entries = parse_inputs(inputs) if inputs else []
    if specs is None:
        chosen = _undeclared(entries, columns, label)
    else:
        chosen = _declared(list(specs), entries, columns, label)
    used: dict[str, str] = {}
    for spec, cols in chosen:
        for column in cols:
            if column not in columns:
                raise InputError(f"--inputs: column {column!r} of input {spec.name!r} is not in the table; its columns are {columns}")
            if column in used:
                raise InputError(f"--inputs: column {column!r} is given to inputs {used[column]!r} and {spec.name!r}; each column feeds one input")
            used[column] = spec.name
    mapped = tuple(_model_input(spec, cols, kind) for spec, cols, kind in ((s, c, _kind(s, entries)) for s, c in chosen))
    return MappedInputs(mapped, tuple(_values(frame, m) for m in mapped))


def _undeclared(entries: list, columns: list[str], label: str) -> list[tuple[InputSpec, list[str]]]:
    if not entries:
        return [(InputSpec("input_0"), [c for c in columns if c != label])]
    return [(InputSpec(name or f"input_{k}"), cols) for k, (name, _, cols) in enumerate(entries)]


def _declared(specs: list[InputSpec], entries: list, columns: list[str], label: str) -> list[tuple[InputSpec, list[str]]]:
    names = [s.name for s in specs]
    for spec in specs:
        if spec.shape is not None and len(spec.shape) not in (1, 2):
            raise InputError(f"model: input {spec.describe()} is not (N,) or (N, d); the command maps table columns onto such inputs only")
    given: dict[str, list[str]] = {}
    for name, _, cols in entries:
        if name is None:
            if len(specs) != 1:
                raise InputError(f"--inputs: the model has {len(specs)} inputs {names}; name each, 'input=col1,col2;other=col3'")
            name = names[0]
        if name not in names:
            raise InputError(f"--inputs: the model has no input {name!r}; its inputs are {names}")
        given[name] = cols
    chosen: dict[str, list[str]] = dict(given)
    taken = {c for cols in given.values() for c in cols}
    for spec in specs:  # rule 2: a one-value input named like a column
        if spec.name not in chosen and spec.name in columns and spec.name not in taken and _width(spec) in (1, None) and spec.name != label:
            chosen[spec.name] = [spec.name]
            taken.add(spec.name)
    rest = [s for s in specs if s.name not in chosen]
    if rest:
        chosen.update(_by_position(rest, [c for c in columns if c != label and c not in taken], label, label in columns))
    for spec in specs:
        width = _width(spec)
        if width is not None and len(chosen[spec.name]) != width:
            raise InputError(f"--inputs: input {spec.describe()} takes {width} columns, got {len(chosen[spec.name])}: {chosen[spec.name]}")
    return [(s, chosen[s.name]) for s in specs]


def _by_position(specs: list[InputSpec], free: list[str], label: str, has_label: bool = True) -> dict[str, list[str]]:
    widths = [_width(s) for s in specs]
    unknown = [s.name for s, w in zip(specs, widths) if w is None]
    if len(unknown) > 1 or (unknown and widths[-1] is not None):
        raise InputError(f"--inputs: inputs {unknown} have no fixed width, so their columns cannot be told by position; name them with --inputs 'input=col1,col2;...'")
    fixed = sum(w for w in widths if w is not None)
    wanted = ", ".join(f"{s.name!r} {w if w is not None else 'the rest'}" for s, w in zip(specs, widths))
    if len(free) < fixed + bool(unknown) or (not unknown and len(free) != fixed):
        hint = "name them with --inputs"
        if not unknown and len(free) == fixed + 1 and not has_label:  # one column too many: most likely the label
            hint = (f"the table has no column {label!r}: if one of its columns is the label, name it with --label COLUMN "
                    "(else say which columns feed the model with --inputs)")
        shown = f"{len(free)} other columns {free[:12]}{' ...' if len(free) > 12 else ''}"
        raise InputError(
            f"--data: the model's inputs take {fixed}{' or more' if unknown else ''} columns by position ({wanted}); the table has "
            f"{shown}{f' (without {label!r})' if has_label else ''}; {hint}"
        )
    out: dict[str, list[str]] = {}
    start = 0
    for spec, width in zip(specs, widths):
        stop = len(free) if width is None else start + width
        out[spec.name] = free[start:stop]
        start = stop
    return out


def _width(spec: InputSpec) -> int | None:
    if spec.shape is None:
        return None
    if len(spec.shape) == 1:
        return 1
    return spec.shape[1]


def _kind(spec: InputSpec, entries: list) -> str | None:
    for name, kind, _ in entries:
        if name in (spec.name, None) and kind is not None:
            return kind
    return None


def _model_input(spec: InputSpec, columns: list[str], kind: str | None) -> ModelInput:
    if spec.dtype is not None:
        declared = "int" if spec.dtype.kind in "iub" else "float"
        if kind is not None and kind != declared:
            raise InputError(f"--inputs: input {spec.name!r} is declared {spec.dtype}, not {kind}")
        kind, dtype = declared, spec.dtype
    else:
        kind = kind or "float"
        dtype = np.dtype(np.int64 if kind == "int" else np.float32)
    rank = 1 if spec.shape is not None and len(spec.shape) == 1 else 2
    return ModelInput(spec.name, kind, tuple(columns), rank, np.dtype(dtype))


def _values(frame: pd.DataFrame, spec: ModelInput) -> np.ndarray:
    cols = list(spec.columns)
    if spec.kind == "int":
        not_int = [c for c in cols if not (pd.api.types.is_integer_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
        if not_int:
            raise InputError(f"--data: columns {not_int} feed the integer input {spec.name!r} but do not hold integers "
                             f"(e.g. {frame[not_int[0]].iloc[0]!r} in {not_int[0]!r}); encode them as integer ids first")
        values = frame[cols].to_numpy(dtype=np.int64)
    else:
        not_numbers = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
        if not_numbers:
            column = frame[not_numbers[0]]
            example = next((v for v in column if not _is_number(v)), column.iloc[0])
            raise InputError(f"--data: columns {not_numbers} feed the float input {spec.name!r} but hold values that are not "
                             f"numbers (e.g. {example!r} in {not_numbers[0]!r})")
        values = frame[cols].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = [c for j, c in enumerate(cols) if not np.isfinite(values[:, j]).all()]
        if bad:
            raise InputError(f"--data: columns {bad} hold missing or infinite values; impute them first")
    values = values.astype(spec.dtype, copy=False)
    return values[:, 0] if spec.rank == 1 else values


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def from_table_inputs(table: TableInputs, names: Sequence[str] = ("cat_ids", "dense")) -> MappedInputs:
    """The ``(cat_ids, dense)`` cut of :func:`~glider_plugins.pipeline.tabular.table_inputs` as
    :class:`MappedInputs` (``names``: the model's names of the two inputs)."""
    cat = ModelInput(names[0], "int", tuple(table.cat_names), 2, np.dtype(np.int64))
    dense = ModelInput(names[1], "float", tuple(table.dense_names), 2, np.dtype(np.float32))
    return MappedInputs((cat, dense), (table.cat, table.dense))
