"""The ``glider`` command. Thin: every subcommand calls the public API and prints.

Subcommands register themselves in :data:`COMMANDS` (name -> ``(help, add_arguments, run)``), so a
new one is a function pair and a line, not a change to :func:`main`.

``glider plugins``
    Table of every registered perturbation scheme, detector, encoder and adapter, with the plugin
    (and installed distribution) that provides it.
``glider explain MODEL --data FILE [--rows 0,5-9]``
    The strongest interactions of chosen rows of a table.
``glider global MODEL --data FILE --out interactions.json [--workers 4] [--checkpoint DIR]``
    GLIDER's global interactions over (a sample of) the rows.
``glider encode --interactions interactions.json --data FILE --out FILE``
    The table with one cross-feature column per top interaction appended.
``glider demo [--out DIR] [--quick] [--data census|protein|synthetic] [--source gbt|deepfm|FILE.onnx] [--targets MODEL ...]``
    The whole pipeline on MovieLens-100K (or the census table): table printed, HTML/PNG report written.

MODEL is an ONNX file, a TorchScript file (.pt, .pth, .ts: torch.jit.save) or a Keras file
(.keras, .h5); FILE a CSV or Parquet table (every column but --label can be a feature).

How columns map onto the model's inputs (glider_plugins.pipeline.model_inputs):
  1. --inputs 'x=a,b,c;ids=u,v' names each input's columns (one input: just 'a,b,c');
  2. an input of one value per row named like a column takes that column;
  3. the other inputs take the other columns in table order, each as many as its width.
  A model that does not declare its inputs (TorchScript) takes the --inputs groups in order
  ('ids:int=u,v' for an id input), else every column as one float input.
  Recommenders with the inputs (cat_ids (N, F) int64, dense (N, D) float32) keep their own rule
  (glider_plugins.pipeline.tabular): by name for models the pipeline exported, else
  --categorical/--dense, else the first F columns are ids and the next D dense values.
Each column is one feature; --feature-groups 'a,b;c,d' makes a group one feature (named a+b).
--baseline (the value of an "off" feature): auto (default: zeros for (cat_ids, dense)
recommenders, else the median of float columns and the mode of id columns), median, mean
(id columns take their mode), mode, zeros, or a one-row CSV/Parquet file of the columns.
--target picks a column of the model's output (a class), --output-name one of several outputs.
Bad input exits 2 with one line naming the option or column at fault.
"""

from __future__ import annotations

from .commands import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]
