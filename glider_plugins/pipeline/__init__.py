"""The GLIDER pipeline end to end: a CTR model's global interactions as cross features for recommenders.

>>> from glider_plugins.pipeline import run_pipeline          # doctest: +SKIP
>>> result = run_pipeline("movielens", source_model="autoint", k=10, out="report/")
>>> print(result.format_table())

The user's own source model and data (:mod:`.source`): an ONNX file, a torch module or a callable,
taking ``(cat_ids, dense)`` as :func:`prepare_data` encodes the table, or the raw table itself:

>>> prepared = prepare_data(my_frame)                       # doctest: +SKIP
>>> result = run_pipeline(prepared, source_model="mine.onnx", source_options={"output_name": "probabilities"})

Also the table <-> model mapping used by the ``glider`` command (:mod:`.tabular`).
"""

from __future__ import annotations

from .data import PipelineData, prepare_data
from .report import PipelineResult, planted_recovery
from .run import TARGETS, detect_global, random_groups, run_pipeline
from .source import SourceModel, resolve_source
from .tabular import ModelFields, TableInputs, model_fields, read_table, table_inputs, write_table

__all__ = [
    "TARGETS", "ModelFields", "PipelineData", "PipelineResult", "SourceModel", "TableInputs", "detect_global", "model_fields",
    "planted_recovery", "prepare_data", "random_groups", "read_table", "resolve_source", "run_pipeline", "table_inputs",
    "write_table",
]
