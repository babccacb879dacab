"""InteractionAttribution: MADEX local interaction detection behind Captum's interface.

The Captum-facing boundary: arguments are formatted and checked here once (see
:mod:`glider_plugins.explain.formatting`), then the batch of instances flows through
perturbation -> model queries -> detector in one pass.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from captum.attr import Attribution
from captum.log import log_usage

from .._checks import check_int
from .._timing import collect
from ..adapters.base import TargetType
from ..adapters.dispatch import adapt
from ..interop.captum import check_captum_arguments, repeat_per_instance
from ..layout import FeatureLayout
from ..perturbations.base import PerturbationScheme
from ..results import AttributionResult, LocalInteractions
from .detection import check_constant, check_counts, detect_varying
from .formatting import InputInfo, build_layout, format_extra, format_target
from .groups import explain_by_groups
from .querying import QueryPlan, design_per_instance, probe_instances, query_design
from .reproducibility import instance_seeds, query_rows

__all__ = ["InteractionAttribution"]


class InteractionAttribution(Attribution):
    r"""Which interpretable features of an input act together in a model's output (MADEX).

    Around each instance, features are switched off at random (an "off" feature takes its
    baseline), the model is queried on every perturbed input, and a detector reads the
    interactions off the (mask -> output) experiments: ``"nid"`` fits a small L1-regularised MLP
    with separate main effects and decodes its weights (Neural Interaction Detection),
    ``"archdetect"`` measures discrete differences without training, ``"moebius"`` fits every pure
    effect the budget allows by least squares over ArchDetect's exact low orders, and the default
    ``"auto"`` takes ``"moebius"`` where the budget fits sets of three (p <= 16 at 1000 queries),
    ArchDetect where only its ``p**2 + p + 2`` queries fit, and ``"moebius"`` on the features its
    ``2 p + 2`` screening rows find interacting beyond (NID for an instance with very many)
    (:mod:`~glider_plugins.detectors.auto`, chosen by the real-model panel and the many-features
    benchmark). Strengths are pure
    effects in output units (:mod:`glider_plugins.reference`): a set's strength is its own
    ``|m(S)|``, ``pairwise()`` a pair's mass ``sum |m(S)|`` over the sets holding it, and
    ``main_effects`` ``m({i})``, what a feature does switched on alone at the baseline (with a
    ``Background``: averaged over background rows).

    Works with any model :func:`glider_plugins.adapters.adapt` accepts: PyTorch modules,
    TensorFlow/Keras models, ONNX models (a path, bytes, a proto or a session) and plain Python
    callables on numpy arrays.

    Parameters
    ----------
    forward_func : torch.nn.Module, keras.Model, ONNX model, or callable
        The model to explain; anything :func:`~glider_plugins.adapters.adapt` accepts, or a
        ready :class:`~glider_plugins.adapters.ModelAdapter`.
    detector : str or Detector, default "auto"
        A registered detector name (``glider_plugins.plugins.available("detectors")``) or an
        instance. ``"auto"`` resolves per call to ``"moebius"`` when ``n_samples`` fits every set
        of up to three features (:func:`~glider_plugins.detectors.moebius.fit_order`), else to
        ``"archdetect"`` when ``p**2 + p + 2 <= n_samples``, else to ``"nid"`` (and to the one
        detector that takes an option given); the detector used is in ``metadata["detector"]``.
    perturbation : str or PerturbationScheme, default "binary"
        A registered perturbation scheme name or an instance.
    **adapter_options
        Passed to :func:`~glider_plugins.adapters.adapt`: ``target`` (the output every call
        explains unless it passes its own), ``batch_size``, ``output`` ("logits"/"probabilities"),
        ``device``, ``framework``, ...

    Examples
    --------
    >>> ia = InteractionAttribution(model)                      # doctest: +SKIP
    >>> res = ia.attribute_interactions(x, baselines=0, n_samples=1000, seed=0)
    >>> res[0].interactions[:3]       # [((2, 5), 0.91), ((0, 2, 5), 0.40), ...]
    >>> res[0].main_effects           # shape (p,)
    >>> res.pairwise()                # shape (N, p, p)
    """

    def __init__(self, forward_func: Any, detector: Any = "auto", perturbation: Any = "binary", **adapter_options: Any) -> None:
        from ..plugins import make_detector, make_perturbation

        self.adapter = adapt(forward_func, **adapter_options)
        super().__init__(forward_func)
        self.detector = detector
        self.perturbation: PerturbationScheme = make_perturbation(perturbation)
        make_detector(detector)  # unknown names fail here, not after the model queries

    @log_usage()
    def attribute(  # type: ignore[override]
        self,
        inputs: Any,
        baselines: Any = None,
        target: TargetType = None,
        additional_forward_args: Any = None,
        feature_mask: Any = None,
        n_samples: int = 1000,
        perturbations_per_eval: int | None = None,
        return_input_shape: bool = True,
        show_progress: bool = False,
        seed: int | None = None,
        return_convergence_delta: bool = False,
        **options: Any,
    ) -> Any:
        r"""Captum's contract: per-element attributions in the shape, type and dtype of ``inputs``.

        Every element gets the main effect of its interpretable feature (what the feature does
        switched on alone at the baseline), as Captum's ``Lime``/``KernelShap``/``FeatureAblation``
        return attributions, so this works wherever Captum takes an attribution method
        (``NoiseTunnel``, ``captum.metrics.sensitivity_max``, ``infidelity``,
        ``captum.attr.visualization``). The interactions themselves are one call away:
        :meth:`attribute_interactions` takes the same arguments and returns them all.

        Captum's wrappers call it with batches they repeat (``NoiseTunnel`` and ``sensitivity_max``
        repeat each instance ``k`` times, next to each other): a ``feature_mask`` or baseline with
        one row per original instance is repeated the same way, and a tuple of one input takes a
        single mask or baseline. For reproducible ``NoiseTunnel`` results fix ``seed`` and
        torch's seed (``torch.manual_seed``), which draws Captum's noise.

        Parameters
        ----------
        inputs, baselines, target, additional_forward_args, feature_mask, n_samples, perturbations_per_eval, show_progress, seed
            As in :meth:`attribute_interactions`.
        return_input_shape : bool, default True
            Captum's ``Lime``/``KernelShap`` argument; only ``True`` is supported (for one value
            per feature, ``attribute_interactions(...).main_effects()``, shape (N, p)).
        return_convergence_delta : bool, default False
            Captum's argument; only ``False``: there is no convergence delta.
        **options
            Any other keyword of :meth:`attribute_interactions` (``kernel_width``, detector options).

        Returns
        -------
        tensor/array, tuple of them, or dict
            Like ``inputs``: torch tensors (on the inputs' devices) for torch inputs, numpy arrays
            otherwise; a tuple for tuple inputs; each in its input's dtype (float inputs), or the
            default float dtype for integer id inputs (``torch.get_default_dtype()``, float64 for
            numpy).

        Raises
        ------
        InputError
            For ``return_input_shape=False``, ``return_convergence_delta=True`` and arguments of
            other Captum methods (``internal_batch_size``, ``n_steps``, ...), besides every error of
            :meth:`attribute_interactions`.
        """
        check_captum_arguments(return_input_shape, return_convergence_delta, options)
        baselines, feature_mask = repeat_per_instance(baselines, inputs), repeat_per_instance(feature_mask, inputs)
        result = self.attribute_interactions(
            inputs, baselines, target, additional_forward_args, feature_mask, n_samples, perturbations_per_eval,
            show_progress=show_progress, seed=seed, **options,
        )
        return result.attributions()

    def attribute_interactions(
        self,
        inputs: Any,
        baselines: Any = None,
        target: TargetType = None,
        additional_forward_args: Any = None,
        feature_mask: Any = None,
        n_samples: int = 1000,
        perturbations_per_eval: int | None = None,
        max_order: int | None = None,
        top_k: int | None = None,
        seed: int | None = None,
        show_progress: bool = False,
        feature_names: Sequence[str] | None = None,
        kernel_width: float | None = None,
        **detector_options: Any,
    ) -> AttributionResult:
        r"""Detect the feature interactions of each instance in ``inputs``.

        Parameters
        ----------
        inputs : tensor/array of shape (N, ...), tuple of them, or dict name -> array
            The instances to explain, batch first; each row is explained on its own. A tuple for a
            multi-input model (Captum's convention), a dict for a model with named inputs (ONNX,
            Keras). Categorical inputs are integer ids.
        baselines : scalar, tensor, tuple/dict of them, or :class:`~glider_plugins.Background`
            The value an "off" feature takes, with Captum's meaning: a scalar per input, or a
            tensor broadcastable to the input (per element, per instance, per channel), e.g. the
            missing/OOV id of a categorical field. ``Background(data)``: take the values of a
            random background row instead. Default: zeros (id 0 for id inputs).
        target : int, tuple, or list of them with one per instance, optional
            Output to explain for a model with several outputs (Captum's meaning).
        additional_forward_args : any or tuple, optional
            Extra positional arguments after the inputs. Tensors with one row per instance are
            expanded to every perturbation; other values are passed unchanged.
        feature_mask : integer tensor/array, or tuple/dict of them, optional
            The interpretable feature (0..p-1) of every input element, broadcastable to the input
            (Captum's meaning; shared ids across inputs make one feature). Default: one feature
            per element.
        n_samples : int, default 1000
            Perturbations per instance, the instance itself included. ``"archdetect"`` uses its
            own design of p**2 + p + 2 queries and ignores this; ``"moebius"`` queries at least
            that design, and all 2**p masks when they fit.
        perturbations_per_eval : int, optional
            Most perturbed rows (over all instances) per model call, and the block an
            instance's random draws (a background row per query, noise) come in. Default: blocks
            of as many rows as fit in about 64 MB of model input (at most 2048), calls of up to
            about 512 KB (at most 1024 rows), their size tuned to the model on the run's own calls
            (:class:`~glider_plugins.explain.calls.CallSizes`). Random draws depend on the
            block: keep it fixed to reproduce a run with ``seed``. From 16 on, each instance's rows start at a multiple
            of 16 in every call (:data:`~glider_plugins.explain.reproducibility.ROW_ALIGN`), so a model whose
            scores depend on a row's place in its kernel blocks still scores an instance the
            same alone or in a batch; below 16 rows are not aligned.
        max_order : int, optional
            Largest interaction order reported (2 = pairs only). Default: the detector's.
        top_k : int, optional
            Keep only the ``top_k`` strongest interactions of each instance.
        seed : int, optional
            Seeds every random draw: the same seed gives the same result. An instance's masks
            and the background rows its "off" features take are drawn from ``(seed, its
            content)``, and the detectors draw nothing per position, so an instance gets the same
            result alone or in any batch.
        show_progress : bool, default False
            tqdm progress bars for the model queries and the detector.
        feature_names : sequence of str, optional
            Names of the p features, used in tables and plots.
        kernel_width : float, optional
            Weight samples with LIME's exponential kernel on the cosine distance to the
            instance, with this width (MADEX uses 0.25). Default: equal weights.
        **detector_options
            Passed to the detector's constructor (e.g. ``hidden_units``, ``l1``, ``cutoff`` for
            ``"nid"``).

        Returns
        -------
        AttributionResult
            ``res[i].interactions`` (list of ``(feature_ids, strength)``, strongest first),
            ``res[i].main_effects`` (p,), ``res[i].pairwise()`` (p, p); ``res.pairwise()``
            (N, p, p); ``res.attributions()`` main effects in the shape of ``inputs``;
            ``res.to_dataframe()``, ``res.to_json()``.

        Raises
        ------
        InputError, InputTypeError
            For arguments that do not fit (the message names the argument).
        ModelError, NonFiniteOutputError
            When the model raises or answers NaN/inf on the perturbed inputs.
        """
        layout, info = build_layout(inputs, baselines, feature_mask, feature_names)
        return self.attribute_layout(
            layout, info, target=target, additional_forward_args=additional_forward_args, n_samples=n_samples,
            perturbations_per_eval=perturbations_per_eval, max_order=max_order, top_k=top_k, seed=seed,
            show_progress=show_progress, kernel_width=kernel_width, **detector_options,
        )

    def attribute_layout(
        self,
        layout: FeatureLayout,
        info: InputInfo,
        *,
        target: TargetType = None,
        additional_forward_args: Any = None,
        n_samples: int = 1000,
        perturbations_per_eval: int | None = None,
        max_order: int | None = None,
        top_k: int | None = None,
        seed: int | None = None,
        show_progress: bool = False,
        kernel_width: float | None = None,
        **detector_options: Any,
    ) -> AttributionResult:
        """:meth:`attribute_interactions` on instances formatted already (:func:`~glider_plugins.explain.formatting.build_layout`):
        the one internal entry point, which GLIDER's chunks call with their slice of the layout
        (:meth:`FeatureLayout.subset`) instead of formatting the data again. Same parameters and
        returns as :meth:`attribute_interactions`; ``info`` says how the instances were passed.

        An instance whose own feature mask leaves some of the batch's features without elements
        (an image with fewer superpixels than the batch's most) is explained on its own features
        (:func:`~glider_plugins.explain.groups.explain_by_groups`), as it is alone:
        its masks are drawn and its budget spent on them, and the features it lacks get no effect
        (:meth:`LocalInteractions.embedded`)."""
        check_int("seed", seed, 0, allow_none=True)
        groups = layout.feature_groups()
        options = {"n_samples": n_samples, "perturbations_per_eval": perturbations_per_eval, "max_order": max_order, "top_k": top_k,
                   "seed": seed, "show_progress": show_progress, "kernel_width": kernel_width, **detector_options}
        target = format_target(target, layout.n_instances)
        extra = format_extra(additional_forward_args, layout.n_instances)
        if len(groups) == 1 and len(groups[0][1]) == layout.n_features:
            result = self._attribute_on_features(layout, info, target, extra, **options)
        else:
            local, metadata = explain_by_groups(lambda part, part_target, part_extra: self._attribute_on_features(
                part, info, part_target, part_extra, **options), layout, groups, target, extra)
            result = _attribution_result(local, layout, info, metadata)
        check_constant(result.instances)
        return result

    def _attribute_on_features(self, layout: FeatureLayout, info: InputInfo, target: Any, extra: tuple[Any, ...], *, n_samples: int,
                               perturbations_per_eval: int | None, max_order: int | None, top_k: int | None, seed: int | None,
                               show_progress: bool, kernel_width: float | None, **detector_options: Any) -> AttributionResult:
        """:meth:`attribute_layout` on instances that have every feature of ``layout``, ``target``
        and ``extra`` formatted already."""
        from ..plugins import make_detector

        total_start = time.perf_counter()
        detector = make_detector(self.detector, **detector_options)
        n_features = layout.n_features
        chosen = detector
        if hasattr(detector, "resolve"):  # "auto": the detector for this p and budget
            check_int("n_samples", n_samples)
            detector = detector.resolve(n_features, n_samples)
        check_counts(n_samples, n_features, detector, max_order, top_k, kernel_width, chosen=chosen)
        rows, per_call = query_rows(layout, perturbations_per_eval)
        plan = QueryPlan(self.adapter, layout, self.perturbation, target, extra, rows, per_call)
        rng = np.random.default_rng(seed)

        unperturbed = probe_instances(plan)
        seeds = instance_seeds(layout, seed, rng)
        design_start = time.perf_counter()
        masks = design_per_instance(detector, layout, n_samples, self.perturbation, seeds)
        design_seconds = time.perf_counter() - design_start
        outputs, stats = query_design(plan, detector, masks, seeds, unperturbed=unperturbed, show_progress=show_progress)
        weights = self.perturbation.kernel_weights(masks, kernel_width) if kernel_width is not None else None

        detect_start = time.perf_counter()
        with collect() as parts:  # the detector's fits, within its detection
            local = detect_varying(detector, masks, outputs, weights, max_order, rng, show_progress)
        detect_seconds = time.perf_counter() - detect_start
        for item in local:
            item.feature_names = layout.feature_names
            if top_k is not None:
                item.interactions = item.interactions[:top_k]
        metadata = {
            "detector": getattr(detector, "name", type(detector).__name__),
            "perturbation": getattr(self.perturbation, "name", type(self.perturbation).__name__),
            "framework": self.adapter.framework,
            "n_samples": int(masks.shape[1]),
            "seed": seed,
            "kernel_width": kernel_width,
            **stats,
            "n_queries": stats["n_queries"] + layout.n_instances,
            "design_seconds": design_seconds,
            "detect_seconds": detect_seconds,
            "fit_seconds": parts.get("fit", 0.0),
            "rank_seconds": max(detect_seconds - parts.get("fit", 0.0), 0.0),
            "total_seconds": time.perf_counter() - total_start,
        }
        return _attribution_result(local, layout, info, metadata)

    def has_convergence_delta(self) -> bool:
        """False: there is no convergence delta (``NoiseTunnel`` asks before it wants one)."""
        return False

    @property
    def multiplies_by_inputs(self) -> bool:
        """True, as for Captum's ``Lime``/``KernelShap``/``FeatureAblation``: a main effect is what
        switching the feature from its baseline to the input's value does, a "global"
        attribution (use ``infidelity_perturb_func_decorator(multiply_by_inputs=True)``)."""
        return True


def _attribution_result(local: list[LocalInteractions], layout: FeatureLayout, info: InputInfo, metadata: dict[str, Any]) -> AttributionResult:
    """The results of ``layout``'s instances, with how they were passed (``info``) and ``metadata``."""
    return AttributionResult(
        local,
        feature_names=layout.feature_names or [],
        feature_mask=layout.feature_mask,
        input_shapes=info.shapes,
        input_names=info.names,
        single_input=info.single,
        torch_tensors=info.torch_tensors,
        input_dtypes=info.dtypes,
        input_devices=info.devices,
        metadata=metadata,
    )
