""":func:`run_pipeline`: source model -> ONNX -> GLIDER -> cross features -> target models."""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..encoders.cross import CrossFeatureEncoder
from ..errors import InputError
from ..global_results import GlobalInteractions
from ..recsys import MODELS, CTRDataset, evaluate, export_onnx, fit, make_model
from .data import PipelineData, prepare_data
from .report import PipelineResult
from .tabular import add_metadata

__all__ = ["detect_global", "random_groups", "run_pipeline"]

TARGETS: tuple[str, ...] = ("widedeep", "deepfm", "dcn", "xdeepfm", "autoint")


def run_pipeline(
    data: Any = "movielens",
    source_model: str = "autoint",
    target_models: Sequence[str] = TARGETS,
    *,
    k: int = 10,
    n_instances: int = 500,
    n_samples: int = 300,
    top_k_per_instance: int = 10,
    detector: str = "auto",
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 10,
    batch_size: int = 1024,
    lr: float = 1e-3,
    min_count: int = 10,
    controls: bool = True,
    num_threads: int | None = 1,
    seed: int = 0,
    out: str | Path | None = None,
    show_progress: bool = True,
    synthetic_options: dict[str, Any] | None = None,
    detect_options: dict[str, Any] | None = None,
    select: bool = True,
) -> PipelineResult:
    """Find global interactions of a source model and measure what they do for target models.

    Steps: split and encode ``data`` (fit on train only); train ``source_model``; export it to
    ONNX; run :class:`~glider_plugins.Glider` on the ONNX file over ``n_instances`` training rows
    (inputs ``(cat_ids, dense)``, one feature per field, baselines: id 0 = missing and dense 0 =
    the training mean); keep those of the top ``3 k`` that lower a logistic regression's
    validation log loss (``select``, at most ``k``) and encode them with
    :class:`~glider_plugins.CrossFeatureEncoder` fit on train; train every target model without
    (``baseline``) and with the crosses (``+glider``) for each seed, plus the controls ``+random``
    (random groups of the same sizes) and, when the planted groups are known, ``+oracle``.

    Parameters
    ----------
    data : {"movielens", "synthetic"}, pandas.DataFrame or SyntheticCTR, default "movielens"
        See :func:`~glider_plugins.pipeline.prepare_data`.
    source_model : {"autoint", "deepfm", ...}, default "autoint"
        The model whose interactions are detected (any name of :data:`~glider_plugins.recsys.MODELS`).
    target_models : sequence of str, default all five
        The models retrained with and without the crosses.
    k : int, default 10
        Global interactions to encode. More than GLIDER found: a warning, and all of them.
    n_instances, n_samples, top_k_per_instance : int
        Rows explained, perturbations per row (NID and ``"moebius"``, and the budget ``"auto"``
        chooses by; ArchDetect's queries are fixed), and interactions kept per row.
    detector : str, default "auto"
        Local detector: ``"auto"`` takes ``"moebius"`` where ``n_samples`` fits every set of up to
        three features (MovieLens-100K's 10 fields at 300 samples), ArchDetect where only its
        ``p**2 + p + 2`` queries fit and NID beyond (39 fields at 300 samples). ``"nid"`` is the paper's; it trains one MLP per row and pass (all rows of a
        chunk together): about 0.02 s a row at 300 samples on one core (39 fields), against about
        0.005 s for ArchDetect.
    seeds : sequence of int, default (0, 1, 2)
        Seeds of the target models' weights and batch order (mean and std are over them).
    epochs, batch_size, lr : training settings (early stopping on validation log loss, patience 2).
    min_count : int, default 10
        Rare categories -> id 0, and the encoder's rare combinations -> OOV.
    controls : bool, default True
        Also train the ``+random`` (and ``+oracle``) variants.
    num_threads : int, optional, default 1
        torch threads while training (1 is fastest for these small models).
    seed : int, default 0
        Seeds the split, the source model, the instances and the random crosses.
    out : str or Path, optional
        Also :meth:`PipelineResult.save` there (and keep the ONNX model there).
    show_progress : bool, default True
        Progress bars and one line per step on stderr.
    select : bool, default True
        Check GLIDER's top ``3 k`` candidates on the validation rows and encode only those that
        lower a logistic regression's validation log loss, at most ``k``
        (:func:`~glider_plugins.encoders.selection.select_crosses`; ``result.selection``,
        ``selection.csv``). ``False``: the top ``k`` as they come (the paper's procedure).
    synthetic_options : dict, optional
        ``make_criteo_like`` options when ``data="synthetic"``.
    detect_options : dict, optional
        Further :meth:`Glider.detect` options (``max_order``, ``chunk_size``, detector options).

    Returns
    -------
    PipelineResult
    """
    _check_args(source_model, target_models, k, seeds)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    prepared = prepare_data(data, seed=seed, min_count=min_count, synthetic_options=synthetic_options)
    timings["prepare"] = time.perf_counter() - clock
    train_options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "num_threads": num_threads}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        onnx_path, source_metrics = _source(prepared, source_model, folder, seed, train_options, timings, show_progress)
        clock = time.perf_counter()
        interactions = detect_global(onnx_path, prepared.train, n_instances=n_instances, n_samples=n_samples, top_k=top_k_per_instance, detector=detector, seed=seed, show_progress=show_progress, **(detect_options or {}))
        timings["detect"] = time.perf_counter() - clock
    selection = None
    if select:
        clock = time.perf_counter()
        chosen, selection = _selected(prepared, interactions, k, min_count, show_progress)
        timings["select"] = time.perf_counter() - clock
        _log(show_progress, str(selection))
    else:
        chosen = [tuple(s) for s, _ in interactions.top(k)]
    variants = _variants(prepared, chosen, k, controls, seed)
    clock = time.perf_counter()
    table = _retrain(prepared, variants, target_models, seeds, train_options, min_count, show_progress)
    timings["targets"] = time.perf_counter() - clock
    timings["total"] = sum(timings.values())
    settings = {"data": prepared.name, "source_model": source_model, "k": k, "n_instances": n_instances, "n_samples": n_samples, "detector": detector, "seeds": list(seeds), "epochs": epochs, "batch_size": batch_size, "seed": seed, "rows": [len(prepared.train), len(prepared.valid), len(prepared.test)]}
    settings["select"] = bool(select)
    result = PipelineResult(interactions, table, timings, chosen, {v: g for v, g in variants.items()}, prepared.planted, source_metrics, settings, selection)
    if out is not None:
        result.save(out)
    return result


def _check_args(source_model: str, target_models: Sequence[str], k: int, seeds: Sequence[int]) -> None:
    for arg, names in (("source_model", [source_model]), ("target_models", list(target_models))):
        unknown = [n for n in names if _key(n) not in MODELS]
        if unknown or not names:
            raise InputError(f"{arg}: unknown model(s) {unknown or names}; expected names of {sorted(MODELS)}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k: expected a positive integer, got {k!r}")
    if len(seeds) == 0:
        raise InputError("seeds: expected at least one seed")


def _key(name: str) -> str:
    return str(name).lower().replace("&", "").replace("_", "").replace("-", "")


def _log(show: bool, message: str) -> None:
    if show:
        import sys

        print(f"[glider pipeline] {message}", file=sys.stderr, flush=True)


def _source(prepared: PipelineData, name: str, folder: Path, seed: int, options: dict[str, Any], timings: dict[str, float], show: bool) -> tuple[Path, dict[str, float]]:
    clock = time.perf_counter()
    model = make_model(name, prepared.train.cardinalities, prepared.train.n_dense, seed=seed)
    fit(model, prepared.train, prepared.valid, seed=seed, show_progress=show, **options)
    metrics = evaluate(model, prepared.test)
    timings["source_fit"] = time.perf_counter() - clock
    _log(show, f"source {name}: test AUC {metrics['auc']:.4f}, log loss {metrics['logloss']:.4f}")
    clock = time.perf_counter()
    path = export_onnx(model, folder / f"source_{_key(name)}.onnx")
    add_metadata(path, prepared.train.cat_names, prepared.train.dense_names, prepared.train.cardinalities)
    timings["export"] = time.perf_counter() - clock
    return path, metrics


def detect_global(
    model: str | Path, data: CTRDataset, *, n_instances: int | None = 500, n_samples: int = 300, top_k: int = 10,
    detector: str = "auto", seed: int = 0, show_progress: bool = True, **options: Any,
) -> GlobalInteractions:
    """Run :class:`~glider_plugins.Glider` on a ``(cat_ids, dense)`` model over the rows of ``data``.

    One feature per field; baselines: id 0 (missing) and dense 0. Parameters (and ``**options``,
    e.g. ``max_order``) as :meth:`Glider.detect`.
    """
    from ..glider import Glider

    if len(data) == 0:
        raise InputError("data: no rows to explain")
    if detector in ("nid", "moebius", "auto"):
        options["n_samples"] = n_samples
    return Glider(str(model), detector=detector).detect(
        (data.cat, data.dense), n_instances=n_instances, top_k=top_k, baselines=(0, 0.0), feature_mask=data.feature_mask(),
        feature_names=data.feature_names, seed=seed, show_progress=show_progress, **options,
    )


def random_groups(sizes: Sequence[int], n_features: int, exclude: Sequence[Sequence[int]], seed: int) -> list[tuple[int, ...]]:
    """Random feature groups of the given sizes, distinct and not in ``exclude`` (seeded)."""
    rng = np.random.default_rng(seed)
    taken = {tuple(sorted(g)) for g in exclude}
    groups: list[tuple[int, ...]] = []
    for size in sizes:
        for _ in range(1000):
            group = tuple(sorted(int(i) for i in rng.choice(n_features, size=min(size, n_features), replace=False)))
            if group not in taken:
                break
        taken.add(group)
        groups.append(group)
    return groups


def _selected(prepared: PipelineData, interactions: GlobalInteractions, k: int, min_count: int, show: bool) -> tuple[list[tuple[int, ...]], Any]:
    """GLIDER's top ``3 k`` candidates checked on the validation rows (:func:`select_crosses`);
    the kept ones as feature ids."""
    from ..encoders.selection import select_crosses

    train, valid = prepared.frame("train"), prepared.frame("valid")
    names = [c for c in train.columns if c != "label"]
    selection = select_crosses(interactions, train[names], train["label"], valid[names], valid["label"], n_candidates=3 * k,
                               max_crosses=k, min_count=min_count, dense_features=list(prepared.train.dense_names), missing_value=0,
                               show_progress=show)
    index = {name: i for i, name in enumerate(names)}
    return [tuple(sorted(index[c] for c in kept)) for kept in selection.kept], selection


def _variants(prepared: PipelineData, chosen: list[tuple[int, ...]], k: int, controls: bool, seed: int) -> dict[str, list[tuple[int, ...]]]:
    variants: dict[str, list[tuple[int, ...]]] = {"baseline": [], "+glider": chosen}
    if controls:
        known = chosen + list(prepared.planted or [])
        sizes = [len(g) for g in chosen] or [2] * k
        variants["+random"] = random_groups(sizes, len(prepared.train.feature_names), known, seed + 7919)
        if prepared.planted:
            variants["+oracle"] = list(prepared.planted)
    if not chosen:
        warnings.warn("no cross is encoded (GLIDER found none, or none lowered the validation log loss): "
                      "the '+glider' variant equals the baseline", stacklevel=3)
    return variants


def _with_crosses(prepared: PipelineData, groups: list[tuple[int, ...]], min_count: int) -> tuple[CTRDataset, CTRDataset, CTRDataset]:
    if not groups:
        return prepared.train, prepared.valid, prepared.test
    frames = [prepared.frame(p).drop(columns="label") for p in ("train", "valid", "test")]
    names = list(frames[0].columns)
    # the prepared fields are ids already (binned where dense): bin only the dense fields kept as values
    encoder = CrossFeatureEncoder([tuple(names[i] for i in g) for g in groups], min_count=min_count, missing_value=0,
                                  dense_features=list(prepared.train.dense_names)).fit(frames[0])
    cards, cross_names = [int(c) for c in encoder.cardinalities_], list(encoder.get_feature_names_out())
    parts = (prepared.train, prepared.valid, prepared.test)
    return tuple(p.with_categorical(encoder.transform(f).to_numpy(), cards, cross_names) for p, f in zip(parts, frames))  # type: ignore[return-value]


def _retrain(prepared: PipelineData, variants: dict[str, list[tuple[int, ...]]], models: Sequence[str], seeds: Sequence[int], options: dict[str, Any], min_count: int, show: bool) -> pd.DataFrame:
    from tqdm.auto import tqdm

    rows = []
    encoded = {variant: _with_crosses(prepared, groups, min_count) for variant, groups in variants.items()}
    bar = tqdm(total=len(models) * len(variants) * len(seeds), desc="target models", disable=not show, unit="fit")
    for name in models:
        for variant, (train, valid, test) in encoded.items():
            scores = []
            for s in seeds:
                model = make_model(name, train.cardinalities, train.n_dense, seed=int(s))
                fit(model, train, valid, seed=int(s), **options)
                scores.append(evaluate(model, test))
                bar.update()
            auc, loss = np.array([m["auc"] for m in scores]), np.array([m["logloss"] for m in scores])
            rows.append({"model": _key(name), "variant": variant, "auc_mean": auc.mean(), "auc_std": auc.std(ddof=1) if len(auc) > 1 else 0.0, "logloss_mean": loss.mean(), "logloss_std": loss.std(ddof=1) if len(loss) > 1 else 0.0, "n_crosses": len(variants[variant])})
    bar.close()
    return pd.DataFrame(rows)
