""":func:`run_pipeline`: source model -> ONNX -> GLIDER -> cross features -> target models."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_int
from ..encoders.cross import CrossFeatureEncoder
from ..errors import InputError
from ..recsys import MODELS, CTRDataset, evaluate, export_onnx, fit, make_model, model_key
from ..results import GlobalInteractions
from .candidates import CONTROLS, RANKINGS
from .controls import (
    candidate_lists,
    check_controls,
    choose_crosses,
    logistic_rows,
    random_groups,
    variants_of,
    with_costs,
)
from .data import PipelineData, prepare_data
from .report import PipelineResult
from .source import (
    SourceModel,
    is_registered,
    resolve_source,
    source_arguments,
    source_metrics,
    source_scores,
    source_target,
)
from .tabular import add_metadata

__all__ = ["detect_global", "random_groups", "run_pipeline"]

#: One line per step (source model scores, the selection) at INFO; the ``glider`` CLI shows them.
logger = logging.getLogger(__name__)

TARGETS: tuple[str, ...] = ("widedeep", "deepfm", "dcn", "xdeepfm", "autoint")


def run_pipeline(
    data: Any = "movielens",
    source_model: Any = "autoint",
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
    show_progress: bool = False,
    synthetic_options: dict[str, Any] | None = None,
    detect_options: dict[str, Any] | None = None,
    select: bool = True,
    source_inputs: str = "auto",
    source_options: dict[str, Any] | None = None,
    random_draws: int | None = None,
    workers: int = 1,
    ranking: str = "source-and-labels",
) -> PipelineResult:
    """Find global interactions of a source model and measure what they do for target models.

    Steps: split and encode ``data`` (fit on train only); train ``source_model`` and export it to
    ONNX (or take the user's own); run :class:`~glider_plugins.Glider` on it over ``n_instances``
    training rows (one feature per field; inputs and baselines by the model's layout,
    :mod:`~glider_plugins.pipeline.source`: ``(cat_ids, dense)`` against id 0 = missing and dense 0 =
    the training mean, or the raw table against its typical row); rank the candidate crosses
    (``ranking``) and keep those of the first ``n`` (``3 k``, at most a third of the pairs:
    :func:`~glider_plugins.pipeline.candidates.candidate_count`) that lower a logistic regression's
    validation log loss (``select``, at most ``k``) and encode them with
    :class:`~glider_plugins.CrossFeatureEncoder` fit on train; train every target model without
    (``baseline``) and with the crosses (``+glider``) for each seed, plus the controls ``+random``
    (random groups of the same sizes, ``random_draws`` draws) and, when the planted groups are
    known, ``+oracle``.

    Parameters
    ----------
    data : {"movielens", "census", "synthetic"}, pandas.DataFrame, SyntheticCTR or PipelineData, default "movielens"
        See :func:`~glider_plugins.pipeline.prepare_data`.
    source_model : str, path, torch.nn.Module or callable, default "autoint"
        The model whose interactions are detected: a name of
        :data:`~glider_plugins.recsys.MODELS` (trained here on ``data``), or the user's own model,
        already trained: an ONNX file, a torch module or a callable (numpy in, one score or two
        class scores per row out) taking the layout ``source_inputs`` says.
    source_inputs : {"auto", "ids", "table"}, default "auto"
        The user's model's inputs: ``"ids"``, ``(cat_ids, dense)`` as
        :func:`~glider_plugins.pipeline.prepare_data` encodes ``data`` (the same ``seed`` and
        ``min_count``; pass that PipelineData as ``data`` to be sure); ``"table"``, one float
        matrix of the table's feature columns in order; ``"auto"``: ``"ids"`` for a model with two
        inputs, ``"table"`` for one (:func:`~glider_plugins.pipeline.source.resolve_source`).
    source_options : dict, optional
        Adapter options for the user's model (:func:`~glider_plugins.adapters.adapt`):
        ``output_name`` (for an ONNX model with several outputs; default: its first float output, e.g. a scikit-learn
        classifier's ``"probabilities"``), ``output="logits"`` with ``model_output="probabilities"``
        to explain log-odds, ``batch_size``, ...
    target_models : sequence of str, default all five
        The models retrained with and without the crosses.
    k : int, default 10
        Global interactions to encode. More than GLIDER found: a warning, and all of them.
    ranking : {"source-and-labels", "cross-value", "frequency"}, default "source-and-labels"
        How ``+glider``'s candidates are ranked. ``"cross-value"``: every pair of fields and
        GLIDER's groups of three or more, by the held-out share of the source model's
        non-additive output on the training rows that the cross's ids explain
        (:func:`~glider_plugins.encoders.cross_value.cross_values`; the source model scores the
        training rows once; ``result.cross_values``). ``"source-and-labels"``: that list and the
        pairs of highest cross value on the training labels, taken in turn
        (:func:`~glider_plugins.pipeline.candidates.merged_candidates`): the labels' head holds what
        the data rewards and the source model did not learn (measured: the same list on
        MovieLens-100K, level on census, +0.07 AUC at 39 fields; the user guide's GLIDER page).
        ``"frequency"``: GLIDER's most frequent interactions (the paper's; measured behind random
        crosses on MovieLens and census). GLIDER's interactions are the source model's explanation
        whichever ranks the crosses.
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
    controls : bool or sequence of str, default True
        The controls GLIDER's candidates are measured against (:mod:`~glider_plugins.pipeline.candidates`),
        each through the same selection on the same rows: ``"+random"`` (as many random groups of
        the same sizes, ``random_draws`` draws), ``"+all-pairs"`` (every pair, where there are at
        most 300), ``"+fast"`` (FAST's strongest pairs; needs interpret) and ``"+labels"`` (the
        pairs of highest cross value on the training labels: a data-only ranking). ``True``:
        the first three (``+fast`` skipped with a warning without interpret), plus ``+oracle``
        when the planted groups are known; ``False``: none.
    random_draws : int, optional
        Random draws of ``+random`` (default: one per seed), each selected on its own; draw ``j`` is
        trained with seed ``seeds[j % len(seeds)]``, so its mean and spread cover the draws at the
        baseline's cost.
    num_threads : int, optional, default 1
        torch threads while training (1 is fastest for these small models).
    workers : int, default 1
        Processes that select the candidate lists and train the target models side by side (the
        same numbers: the selection is deterministic, every fit is seeded and runs on
        ``num_threads`` threads); ``glider demo`` uses 2.
    seed : int, default 0
        Seeds the split, the source model, the instances and the random crosses.
    out : str or Path, optional
        Also :meth:`PipelineResult.save` there (and keep the ONNX model there).
    show_progress : bool, default False
        tqdm progress bars (off by default, as Captum's ``show_progress``; ``glider demo`` turns
        them on). One line per step goes to the ``glider_plugins.pipeline.run`` logger at INFO
        whatever this says: ``logging.basicConfig(level=logging.INFO)`` shows them.
    select : bool, default True
        Check each variant's candidates (GLIDER's first ``n``, and the controls') on the validation
        rows and encode only those that lower a logistic regression's validation log loss, at
        most ``k`` (:func:`~glider_plugins.encoders.selection.select_crosses`;
        ``result.selections``, ``selection.csv``). ``False``: the first ``k`` of each list as they
        come (the paper's procedure).
    synthetic_options : dict, optional
        ``make_criteo_like`` options when ``data="synthetic"``.
    detect_options : dict, optional
        Further :meth:`Glider.detect` options (``max_order``, ``chunk_size``, detector options).

    Returns
    -------
    PipelineResult
        Its :attr:`~PipelineResult.recommended` says which list's kept crosses to use (GLIDER's or
        a deterministic control's: the lowest held-out log loss after the selection, on the
        validation rows); :attr:`~PipelineResult.crosses` are GLIDER's kept crosses whichever wins.
    """
    _check_args(target_models, k, seeds, random_draws, workers, ranking)
    user_source = None if is_registered(source_model) else resolve_source(source_model, source_inputs, source_options)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    prepared = prepare_data(data, seed=seed, min_count=min_count, synthetic_options=synthetic_options)
    timings["prepare"] = time.perf_counter() - clock
    train_options = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "num_threads": num_threads}
    detect_settings = {"n_instances": n_instances, "n_samples": n_samples, "top_k": top_k_per_instance, "detector": detector,
                       "seed": seed, "show_progress": show_progress, **(detect_options or {})}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if user_source is None:
            onnx_path, source_metrics = _source(prepared, source_model, folder, seed, train_options, timings, show_progress)
            user_source = SourceModel(str(onnx_path), "ids", "onnx")
        else:
            source_metrics = _user_source_metrics(user_source, prepared)
        clock = time.perf_counter()
        interactions = _detect(user_source, prepared, detect_settings)
        timings["detect"] = time.perf_counter() - clock
        scores = _ranking_scores(user_source, prepared, ranking, timings)
    lists = candidate_lists(prepared, interactions, k, check_controls(controls), seed, len(seeds) if random_draws is None else random_draws,
                            scores, min_count, with_labels=ranking == "source-and-labels")
    clock = time.perf_counter()
    chosen, selections, costs = choose_crosses(prepared, lists, k, min_count, select, show_progress, workers)
    timings["select"] = time.perf_counter() - clock
    variants, draws = variants_of(prepared, chosen, controls)
    clock = time.perf_counter()
    table = _retrain(prepared, variants, draws, target_models, seeds, train_options, min_count, show_progress, workers)
    table = with_costs(pd.concat([logistic_rows(prepared, variants, draws, min_count), table], ignore_index=True), lists, costs)
    timings["targets"] = time.perf_counter() - clock
    timings["total"] = sum(timings.values())
    source_name = source_model if is_registered(source_model) else f"{user_source.kind} ({user_source.layout})"
    settings = {"data": prepared.name, "source_model": source_name, "k": k, "n_instances": n_instances, "n_samples": n_samples, "detector": detector, "seeds": list(seeds), "epochs": epochs, "batch_size": batch_size, "seed": seed, "rows": [len(prepared.train), len(prepared.valid), len(prepared.test)]}
    settings["select"] = bool(select)
    settings["ranking"] = ranking
    settings["random_draws"] = len(draws)
    result = PipelineResult(interactions, table, timings, chosen["+glider"][0], variants, prepared.planted, source_metrics, settings,
                            selections.get("+glider", [None])[0], random_draws=draws, feature_names=list(prepared.train.feature_names),
                            selections=selections, cross_values=lists["+glider"][0].values)
    if out is not None:
        result.save(out)
    return result


def check_target_models(names: Sequence[str], argument: str = "target_models") -> None:
    """An :class:`InputError` naming ``argument`` unless ``names`` are one or more of
    :data:`~glider_plugins.recsys.MODELS` (the ``glider demo --targets`` check before any work, too)."""
    names = list(names)
    unknown = [n for n in names if model_key(n) not in MODELS]
    if unknown or not names:
        raise InputError(f"{argument}: unknown model(s) {unknown or names}; expected names of {sorted(MODELS)}")


def _check_args(target_models: Sequence[str], k: int, seeds: Sequence[int], random_draws: int | None, workers: int = 1,
                ranking: str = "source-and-labels") -> None:
    check_target_models(target_models)
    if ranking not in RANKINGS:
        raise InputError(f"ranking: expected one of {list(RANKINGS)}, got {ranking!r}")
    check_int("random_draws", random_draws, allow_none=True)
    check_int("workers", workers)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k: expected a positive integer, got {k!r}")
    if len(seeds) == 0:
        raise InputError("seeds: expected at least one seed")


def _source(prepared: PipelineData, name: str, folder: Path, seed: int, options: dict[str, Any], timings: dict[str, float], show: bool) -> tuple[Path, dict[str, float]]:
    clock = time.perf_counter()
    model = make_model(name, prepared.train.cardinalities, prepared.train.n_dense, seed=seed)
    fit(model, prepared.train, prepared.valid, seed=seed, show_progress=show, **options)
    metrics = evaluate(model, prepared.test)
    timings["source_fit"] = time.perf_counter() - clock
    logger.info("source %s: test AUC %.4f, log loss %.4f", name, metrics["auc"], metrics["logloss"])
    clock = time.perf_counter()
    path = export_onnx(model, folder / f"source_{model_key(name)}.onnx")
    add_metadata(path, prepared.train.cat_names, prepared.train.dense_names, prepared.train.cardinalities)
    timings["export"] = time.perf_counter() - clock
    return path, metrics


def detect_global(
    model: str | Path, data: CTRDataset, *, n_instances: int | None = 500, n_samples: int = 300, top_k: int = 10,
    detector: str = "auto", seed: int = 0, show_progress: bool = False, **options: Any,
) -> GlobalInteractions:
    """Run :class:`~glider_plugins.Glider` on a ``(cat_ids, dense)`` model over the rows of ``data``.

    One feature per field; baselines: id 0 (missing) and dense 0. Parameters (and ``**options``,
    e.g. ``max_order``) as :meth:`Glider.detect`.
    """
    if len(data) == 0:
        raise InputError("data: no rows to explain")
    return _glider_detect(str(model) if isinstance(model, Path) else model, (data.cat, data.dense), (0, 0.0), data.feature_mask(),
                          list(data.feature_names), None, n_instances=n_instances, n_samples=n_samples, top_k=top_k,
                          detector=detector, seed=seed, show_progress=show_progress, **options)


def _detect(source: SourceModel, prepared: PipelineData, settings: dict[str, Any]) -> GlobalInteractions:
    """GLIDER on the source model over the training rows, in the model's own layout."""
    inputs, baselines, mask, names = source_arguments(source, prepared, "train")
    return _glider_detect(source.model, inputs, baselines, mask, names, source_target(source, inputs), adapter_options=source.options,
                          **settings)


def _glider_detect(model: Any, inputs: tuple[np.ndarray, ...], baselines: Any, mask: Any, names: list[str], target: int | None, *,
                   n_instances: int | None, n_samples: int, top_k: int, detector: str, seed: int, show_progress: bool,
                   adapter_options: dict[str, Any] | None = None, **options: Any) -> GlobalInteractions:
    from ..glider import Glider

    if detector in ("nid", "moebius", "auto"):
        options["n_samples"] = n_samples
    data = inputs if len(inputs) > 1 else inputs[0]
    return Glider(model, detector=detector, **(adapter_options or {})).detect(
        data, n_instances=n_instances, top_k=top_k, baselines=baselines, feature_mask=mask, feature_names=names, seed=seed,
        show_progress=show_progress, target=target, **options,
    )


def _ranking_scores(source: SourceModel, prepared: PipelineData, ranking: str, timings: dict[str, float]) -> np.ndarray | None:
    """The source model's scores on the training rows, for the cross values (``None``: ranked by frequency)."""
    if ranking == "frequency":
        return None
    clock = time.perf_counter()
    scores = source_scores(source, prepared, "train")
    timings["score_train"] = time.perf_counter() - clock
    return scores


def _user_source_metrics(source: SourceModel, prepared: PipelineData) -> dict[str, float]:
    metrics = source_metrics(source, prepared)
    logger.info("source (%s, inputs %s): test AUC %.4f", source.kind, source.layout, metrics["auc"])
    return metrics


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


def _retrain(prepared: PipelineData, variants: dict[str, list[tuple[int, ...]]], draws: list[list[tuple[int, ...]]],
             models: Sequence[str], seeds: Sequence[int], options: dict[str, Any], min_count: int, show: bool,
             workers: int = 1) -> pd.DataFrame:
    """One row per (model, variant): test AUC and log loss over the seeds (``+random``: draw ``j``
    with seed ``seeds[j % len(seeds)]``, mean and spread over the draws). ``workers`` processes fit
    the models side by side; every fit is seeded, so the numbers do not depend on them."""
    from tqdm.auto import tqdm

    runs: dict[str, list[tuple[tuple[CTRDataset, CTRDataset, CTRDataset], int]]] = {}
    for variant, groups in variants.items():
        parts = _with_crosses(prepared, groups, min_count)
        runs[variant] = [(parts, int(s)) for s in seeds]
    if draws:
        runs["+random"] = [(_with_crosses(prepared, groups, min_count), int(seeds[j % len(seeds)])) for j, groups in enumerate(draws)]
    order = [v for v in ("baseline", "+glider", *CONTROLS, "+oracle") if v in runs]
    tasks = [(name, variant, parts, s) for name in models for variant in order for parts, s in runs[variant]]
    with tqdm(total=len(tasks), desc="target models", disable=not show, unit="fit") as bar:
        scores = _fit_all(tasks, options, workers, bar)
    rows = []
    for name in models:
        for variant in order:
            found = [m for (n, v, _, _), m in zip(tasks, scores, strict=True) if n == name and v == variant]
            auc, loss = np.array([m["auc"] for m in found]), np.array([m["logloss"] for m in found])
            n_crosses = round(float(np.mean([len(d) for d in draws]))) if variant == "+random" else len(variants[variant])
            rows.append({"model": model_key(name), "variant": variant, "auc_mean": auc.mean(), "auc_std": auc.std(ddof=1) if len(auc) > 1 else 0.0,
                         "logloss_mean": loss.mean(), "logloss_std": loss.std(ddof=1) if len(loss) > 1 else 0.0, "n_crosses": n_crosses,
                         "n_runs": len(found)})
    return pd.DataFrame(rows)


def _fit_all(tasks: list[tuple[str, str, Any, int]], options: dict[str, Any], workers: int, bar: Any) -> list[dict[str, float]]:
    """Each task's test metrics, in task order: inline, or on ``workers`` spawned processes."""
    if workers <= 1 or len(tasks) <= 1:
        out = []
        for name, _, parts, seed in tasks:
            out.append(_fit_one(name, parts, seed, options))
            bar.update()
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_fit_one, name, parts, seed, options) for name, _, parts, seed in tasks]
        for future in futures:
            future.add_done_callback(lambda _: bar.update())
        return [future.result() for future in futures]


def _fit_one(name: str, parts: tuple[CTRDataset, CTRDataset, CTRDataset], seed: int, options: dict[str, Any]) -> dict[str, float]:
    """Train target model ``name`` on ``parts`` (train, valid, test) with ``seed``; its test metrics."""
    train, valid, test = parts
    model = make_model(name, train.cardinalities, train.n_dense, seed=seed)
    fit(model, train, valid, seed=seed, **options)
    return evaluate(model, test)
