"""A fitted :class:`~glider_plugins.CrossFeatureEncoder` as an ONNX graph: the raw fields in, the
cross ids out, so that a recommender served by an ONNX runtime computes its crosses in the same
runtime, from the same request.

The graph takes one tensor ``"X"`` of shape (N, n_columns) (float64 or float32: the columns the
crosses read, in the encoder's column order, ids as numbers, NaN for missing; their names are the
model's metadata ``input_columns``, a JSON list) and returns ``"cross_ids"``, int64 of shape (N,
n_interactions), equal to :meth:`CrossFeatureEncoder.transform`. Its steps are the
encoder's: a dense parent's code counts the bin edges at or below the value; a categorical parent's
code is the position of its value among the frequent categories (an ``ai.onnx.ml`` ``LabelEncoder``,
a hash map: no table is scanned row by row); codes combine in the same mixed radix, compressed by
the same tables; the vocabulary is another ``LabelEncoder`` (unknown keys: the out-of-vocabulary
id); a row with a missing parent gets id 0.

onnx is imported only here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from .cross import CrossFeatureEncoder

__all__ = ["INPUT", "OUTPUT", "encoder_to_onnx"]

#: The graph's input and output names.
INPUT, OUTPUT = "X", "cross_ids"
#: Opsets: ``ai.onnx`` and ``ai.onnx.ml`` (``LabelEncoder`` with int64 keys and values).
OPSET, ML_OPSET = 17, 3


class _Graph:
    """Nodes and constants of the graph under construction, with fresh names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, value: Any, stem: str = "c") -> str:
        name = self.name(stem)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, inputs: list[str], stem: str | None = None, domain: str = "", **attributes: Any) -> str:
        out = self.name(stem or kind.lower())
        self.nodes.append(self.helper.make_node(kind, inputs, [out], domain=domain, **attributes))
        return out

    def label_encoder(self, keys: str, table: np.ndarray, values: np.ndarray, default: int) -> str:
        """int64 ``keys`` -> ``values`` where they are in ``table``, else ``default``."""
        if table.size == 0:  # nothing to look up: every key is unknown
            zero = self.op("Mul", [keys, self.const(np.int64(0))])
            return self.op("Add", [zero, self.const(np.int64(default))])
        return self.op("LabelEncoder", [keys], domain="ai.onnx.ml", keys_int64s=[int(k) for k in table],
                       values_int64s=[int(v) for v in values], default_int64=int(default))


def encoder_to_onnx(encoder: CrossFeatureEncoder, dtype: str = "float64") -> Any:
    """The ONNX model of a fitted ``encoder`` (see the module docstring): what
    :meth:`CrossFeatureEncoder.to_onnx` returns, with its ``dtype`` and its errors."""
    from onnx import TensorProto, checker, helper

    if dtype not in ("float64", "float32"):
        raise InputError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    graph = _Graph()
    x = INPUT if dtype == "float64" else graph.op("Cast", [INPUT], to=TensorProto.DOUBLE)
    names = encoder._input_feature_names()
    used = sorted({c for s in encoder.interactions_ for c in s})
    columns = {c: _parent_codes(graph, x, encoder, c, position, str(names[c])) for position, c in enumerate(used)}
    outputs = [_cross_ids(graph, encoder, members, cross, columns) for members, cross in zip(encoder.interactions_, encoder._crosses, strict=True)]
    stacked = graph.op("Concat", [graph.op("Unsqueeze", [o, graph.const(np.array([1], np.int64))]) for o in outputs], axis=1)
    graph.nodes.append(helper.make_node("Identity", [stacked], [OUTPUT]))
    element = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    model = helper.make_model(
        helper.make_graph(graph.nodes, "cross_features", [helper.make_tensor_value_info(INPUT, element, ["N", len(used)])],
                          [helper.make_tensor_value_info(OUTPUT, TensorProto.INT64, ["N", len(outputs)])], graph.initializers),
        opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="glider-plugins",
    )
    model.doc_string = "cross ids of " + ", ".join(str(n) for n in encoder.get_feature_names_out())
    helper.set_model_props(model, {"input_columns": json.dumps([str(names[c]) for c in used]),
                                   "output_columns": json.dumps([str(n) for n in encoder.get_feature_names_out()])})
    checker.check_model(model)
    return model


def _parent_codes(graph: _Graph, x: str, encoder: CrossFeatureEncoder, column: int, position: int,
                  name: str) -> tuple[str, str, str]:
    """(code int64, missing bool, known bool) of one input column (``position`` in ``"X"``), each (N,)."""
    from onnx import TensorProto

    values = graph.op("Gather", [x, graph.const(np.int64(position))], axis=1)
    missing = graph.op("IsNaN", [values])
    parent = encoder._parents[column]
    if parent.dense:
        edges = graph.const(parent.table.astype(np.float64).reshape(1, -1))
        below = graph.op("LessOrEqual", [edges, graph.op("Unsqueeze", [values, graph.const(np.array([1], np.int64))])])
        code = graph.op("ReduceSum", [graph.op("Cast", [below], to=TensorProto.INT64), graph.const(np.array([1], np.int64))], keepdims=0)
        return code, missing, graph.op("Not", [missing])
    table = np.asarray(parent.table)
    if table.dtype.kind not in "iuf" or (table.size and not np.array_equal(table, np.round(table.astype(np.float64)))):
        raise InputError(f"to_onnx: column {name!r} holds categories that are not whole numbers ({table[:3].tolist()}...); "
                         "encode them as integer ids first")
    if encoder.missing_value is not None:
        missing = graph.op("Or", [missing, graph.op("Equal", [values, graph.const(np.float64(encoder.missing_value))])])
    safe = graph.op("Where", [missing, graph.const(np.float64(0.0)), values])
    position = graph.label_encoder(graph.op("Cast", [safe], to=TensorProto.INT64), table.astype(np.int64),
                                   np.arange(table.size, dtype=np.int64), -1)
    known = graph.op("GreaterOrEqual", [position, graph.const(np.int64(0))])
    whole = graph.op("Equal", [safe, graph.op("Floor", [safe])])  # 2.5 is no category, nor is 2 then
    known = graph.op("And", [known, whole])
    return graph.op("Max", [position, graph.const(np.int64(0))]), missing, known


def _cross_ids(graph: _Graph, encoder: CrossFeatureEncoder, members: tuple[int, ...], cross: Any,
               columns: dict[int, tuple[str, str, str]]) -> str:
    """The ids of one cross, (N,) int64: the encoder's :func:`~.cross_keys.apply_keys` and lookup."""
    radices = [encoder._parents[c].radix for c in members]
    codes = [graph.op("Where", [columns[c][2], columns[c][0], graph.const(np.int64(0))]) for c in members]
    missing = columns[members[0]][1]
    valid = columns[members[0]][2]
    for c in members[1:]:
        missing = graph.op("Or", [missing, columns[c][1]])
        valid = graph.op("And", [valid, columns[c][2]])
    valid = graph.op("And", [valid, graph.op("Not", [missing])])
    key = codes[0]
    for code, radix, table in zip(codes[1:], radices[1:], cross.steps, strict=True):
        if table is not None:
            position = graph.label_encoder(key, np.asarray(table, np.int64), np.arange(len(table), dtype=np.int64), -1)
            valid = graph.op("And", [valid, graph.op("GreaterOrEqual", [position, graph.const(np.int64(0))])])
            key = graph.op("Max", [position, graph.const(np.int64(0))])
        key = graph.op("Add", [graph.op("Mul", [key, graph.const(np.int64(radix))]), code])
    vocabulary = np.asarray(cross.vocabulary, np.int64)
    oov = int(vocabulary.size + 1)
    ids = graph.label_encoder(key, vocabulary, np.arange(1, vocabulary.size + 1, dtype=np.int64), oov)
    ids = graph.op("Where", [valid, ids, graph.const(np.int64(oov))])
    return graph.op("Where", [missing, graph.const(np.int64(0)), ids])
