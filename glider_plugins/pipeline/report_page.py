"""The pipeline's ``report.html``: one page a person reads (the settings in words, the results
formatted, the pictures inline, what each variant crossed, the selection and the timings)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["report_page"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.lead{color:#444;font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{font-weight:600}tr.group td{border-top:2px solid #bbb}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}dt{color:#555}dd{margin:0}
img{max-width:100%;margin:.5em 0;border:1px solid #eee}.note{color:#666;font-size:.9em}
ul.crosses{columns:2}
"""

#: The settings shown, in words.
_SETTING_WORDS = {
    "data": "data", "source_model": "source model (explained)", "detector": "local detector",
    "n_instances": "rows explained", "n_samples": "queries per row", "k": "candidate crosses (GLIDER's top K)",
    "select": "crosses selected on held-out rows", "random_draws": "random control draws", "seeds": "training seeds",
    "epochs": "epochs (at most)", "batch_size": "batch size", "seed": "seed", "rows": "rows (train / valid / test)",
}

#: What each variant is, in words.
_VARIANT_WORDS = {
    "baseline": "the fields alone",
    "+glider": "the source model's candidates (ranked by cross value, or by GLIDER's frequency), through the selection",
    "+random": "random candidates (as many, same sizes), through the same selection",
    "+all-pairs": "every pair, through the same selection",
    "+fast": "FAST's pair ranking (interpret's EBM), through the same selection",
    "+labels": "pairs ranked by cross value on the training labels (data only), through the same selection",
    "+oracle": "the planted crosses (synthetic data)",
}


def report_page(result: Any, paths: dict[str, Path]) -> str:
    """The HTML page of a :class:`~glider_plugins.pipeline.PipelineResult` whose pictures were
    written to ``paths["auc.png"]`` and ``paths["interactions.png"]``."""
    settings = result.settings
    title = f"GLIDER on {settings.get('data', 'the data')}"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        f"<p class='lead'>{_text(_lead(result))}</p>",
        "<h2>Settings</h2>", _settings(settings, result.source_metrics),
        "<h2>Test AUC and log loss</h2>",
        "<p class='note'>Mean ± spread over the training seeds; the best AUC of each model in bold. Every variant's crosses "
        "went through the same selection on held-out rows.</p>",
        _results(result.table), _image(paths["auc.png"], "test AUC per model and variant"),
        "<h2>The crosses</h2>", _recommendation(result), _crosses(result),
        _image(paths["interactions.png"], "GLIDER's global interactions"),
    ]
    if result.selection is not None:
        parts += ["<h2>GLIDER's candidates in the selection</h2>", f"<p>{_text(str(result.selection))}.</p>", _selection(result.selection.report)]
    if getattr(result, "cross_values", None) is not None:
        parts += ["<h2>Cross values</h2>", _cross_values_note(result.cross_values), _selection(result.cross_values, file="cross_values.csv")]
    parts += ["<h2>Timings</h2>", _table(["step", "seconds"], [[k, _number(v, 1)] for k, v in result.timings.items()], numeric={1}),
              "</body></html>"]
    return "\n".join(parts)


def _lead(result: Any) -> str:
    """One sentence: what was explained and whether GLIDER's crosses paid off."""
    gains = result.gains() if "baseline" in set(result.table["variant"]) else None
    kept = len(result.crosses)
    head = f"GLIDER explained {result.settings.get('n_instances', '?')} rows of the source model and kept {kept} cross{'es' if kept != 1 else ''}"
    if gains is None or "+glider" not in gains:
        return head + "."
    ahead = int((gains["+glider"] > 0).sum())
    return f"{head}; with them the test AUC rose on {ahead} of {len(gains)} models (the controls below went through the same selection)."


def _settings(settings: dict[str, Any], source_metrics: dict[str, float]) -> str:
    rows = [(words, settings[key]) for key, words in _SETTING_WORDS.items() if key in settings]
    rows += [(f"other: {key}", value) for key, value in settings.items() if key not in _SETTING_WORDS]
    rows += [(f"source model test {name}", _number(value, 4)) for name, value in source_metrics.items()]
    items = "".join(f"<dt>{_text(name)}</dt><dd>{_text(_words(value))}</dd>" for name, value in rows)
    return f"<dl>{items}</dl>"


def _results(table: pd.DataFrame) -> str:
    best = table.groupby("model")["auc_mean"].transform("max")
    rows, classes, previous = [], [], None
    for row, is_best in zip(table.itertuples(), table["auc_mean"] == best, strict=True):
        loss = "—" if pd.isna(row.logloss_mean) else f"{row.logloss_mean:.4f} ± {row.logloss_std:.4f}"
        tried = getattr(row, "candidates", 0) or "—"
        seconds = _number(getattr(row, "select_s", 0), 0) if getattr(row, "select_s", 0) else "—"
        rows.append([row.model, row.variant, f"{row.auc_mean:.4f} ± {row.auc_std:.4f}", loss, tried, seconds])
        classes.append(" ".join(c for c, on in (("best", is_best), ("group", previous is not None and row.model != previous)) if on))
        previous = row.model
    return _table(["model", "variant", "test AUC", "test log loss", "candidates tried", "selection s"], rows, numeric={2, 3, 4, 5},
                  row_classes=classes)


def _recommendation(result: Any) -> str:
    """Which list's crosses to use and why (the held-out log loss of each list's kept crosses)."""
    chosen = result.recommended
    if chosen is None:
        return ""
    return (f"<p>Crosses to use: those <b>{_text(chosen)}</b> kept, the lowest held-out log loss after the "
            f"selection ({_text(result.recommendation_reasons())}; validation rows, not the test rows above).</p>")


def _crosses(result: Any) -> str:
    names = result.cross_names()
    rows = []
    for variant, crosses in names.items():
        shown = ", ".join(crosses[:12]) + (f" … ({len(crosses)} in all)" if len(crosses) > 12 else "") if crosses else "none"
        rows.append([variant, _VARIANT_WORDS.get(variant, ""), shown])
    return _table(["variant", "what it is", "crosses kept"], rows)


def _cross_values_note(values: pd.DataFrame) -> str:
    r2 = values.attrs.get("additive_r2")
    additive = f" The fields alone explain {100 * r2:.1f}% of the variance of its scores." if r2 is not None else ""
    return ("<p class='note'>How much of the source model's non-additive output (its scores less their best additive model "
            f"of the fields) each cross's ids explain on held-out training rows; the candidates are the highest.{_text(additive)}</p>")


def _selection(report: pd.DataFrame, limit: int = 30, file: str = "selection.csv") -> str:
    shown = report.head(limit)
    numeric = {k for k, column in enumerate(shown.columns)
               if pd.api.types.is_numeric_dtype(shown[column]) and not pd.api.types.is_bool_dtype(shown[column])}
    whole = {k for k in numeric if _whole_numbers(shown.iloc[:, k].to_numpy(dtype=np.float64))}  # counts, sizes: no decimals
    rows = [[_cell(v, k in whole) for k, v in enumerate(row)] for row in shown.itertuples(index=False)]
    more = f"<p class='note'>The first {limit} of {len(report)} (all in {file}).</p>" if len(report) > limit else ""
    return _table([str(c) for c in shown.columns], rows, numeric=numeric) + more


def _table(header: list[str], rows: list[list[Any]], numeric: set[int] = frozenset(), row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_text(h)}</th>" for h in header)
    body = []
    for n, row in enumerate(rows):
        cells = "".join(f"<td class='num'>{_text(v)}</td>" if k in numeric else f"<td>{_text(v)}</td>" for k, v in enumerate(row))
        css = f" class='{row_classes[n]}'" if row_classes and row_classes[n] else ""
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{_text(alt)}" src="data:image/png;base64,{data}">'


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " / ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _whole_numbers(values: np.ndarray) -> bool:
    known = values[~np.isnan(values)]
    return bool(known.size) and bool(np.all(known == np.round(known)))


def _cell(value: Any, whole: bool = False) -> str:
    """A selection-report cell: yes/no, numbers of a ``whole``-number column without decimals,
    others to 5 decimals, missing as a dash, tuples of columns joined."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (tuple, list)):
        return " x ".join(str(v) for v in value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return "—"
        return str(int(value)) if whole else f"{value:.5f}"
    return str(value)


def _number(value: Any, digits: int) -> str:
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _text(value: Any) -> str:
    return html.escape(str(value))
