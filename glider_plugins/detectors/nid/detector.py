"""MADEX's detector: Neural Interaction Detection (NID) on local perturbations, batched over instances.

For every instance, an MLP learns the map from perturbation masks (p,) in {0, 1} to the model's
score; NID then reads interactions off its weights (Tsang et al., ICLR 2018 and ICLR 2020):

* the network is ``linear(mask) + MLP(mask)``: the linear part (per-feature weights + bias, not
  penalised) models main effects, the ReLU MLP (L1 penalty on all its weights) what is left, so
  the MLP's first layer only has to carry interactions;
* a hidden unit ``u`` of the first layer gets the influence ``z_u``: the product of absolute weight
  matrices of the later layers, ``z = |w_out|^T |W_L| ... |W_2|``;
* a set ``I`` of features interacts through ``u`` as much as its weakest input weight,
  ``min_{i in I} |W1[u, i]|``; summed over units with weights ``z_u``;
* by default in several passes (:mod:`.stages`): the pairs found (and the sets they close)
  are explained away with exact AND-crosses and NID runs again on the rescaled residual, so weak
  interactions are not drowned by a dominant one.

Fitting choices, each measured on the NID test functions (``tests/test_detectors.py``):

* outputs are centred and divided by the spread of the residual of an additive least-squares fit
  (not by their own spread), and the linear part starts at that fit. Interactions often carry a
  few per cent of an instance's variance; scaled by the total spread they cost less than the L1
  penalty and the MLP drops them. Main effects and strengths are reported in output units;
* mask inputs are standardised per instance and feature (as Archipelago's NID baseline does);
* the first layer starts small (``input_init_scale``): dense random input weights read as
  interactions between every pair of features, and early stopping ends training before L1
  erases them.

Training is batched: the N instance networks are stacked (each instance's parameters one row
of an (N, size) tensor, used as (N, in, out) weight views) and trained together with batched
matrix products, backpropagation written out (autograd's bookkeeping cost more than these small
products) and one Adam update over the whole stack (elementwise, so per instance); each instance
stops early on its own held-out samples and then leaves the batch. Stacks of fewer than 16
instances train on one torch thread (:data:`.training.MIN_STACK_FOR_THREADS`). Randomness (initialisation,
splits, mini-batch order) comes from one ``torch.Generator`` per pass seeded from the ``rng``
passed in, so a seed reproduces a run exactly. The draws are shared by all instances (the same
initial weights, held-out positions and sample order; each instance's samples are its own random
masks), so nothing depends on an instance's position: explained alone or in any batch, with the
same ``rng`` state, an instance gets the same result (up to float rounding in the batched
products).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ..._checks import check_int, check_number, is_int
from ...errors import InputError
from ...results import LocalInteractions
from ..base import Detector, check_experiments
from ..pure_effects.regression import SIGNIFICANCE
from .decoding import (
    cutoff_interactions,
    nid_anyorder,
    nid_pairwise,
    prune_redundant,
    unit_influence,
)
from .refit import refit
from .stages import FirstPass, fit_metadata, rank_instance, run_passes
from .training import split_samples, standardise, train_in_stacks

__all__ = ["NIDDetector", "nid_pairwise", "nid_anyorder", "prune_redundant"]

#: Largest interaction order reported when neither the constructor nor ``detect`` set one.
DEFAULT_MAX_ORDER = 10


class NIDDetector(Detector):
    """Neural Interaction Detection on masks (MADEX), one MLP per instance, all trained at once.

    Parameters
    ----------
    hidden_units : sequence of int or None, default None
        Widths of the ReLU layers of the interaction MLP. ``None``: (32, 16) below 64 features,
        (64, 32) from 64 on (:meth:`network_for`). MADEX's code uses (256, 128, 64); with the
        passes below, the small networks rank nearly as well at 1/10 to 1/20 of the time (training is
        compute-bound: its cost grows with the weights). Mean pairwise AUC at 1000 samples: NID
        test panel (p = 10, three draws) 0.986-0.992 vs 0.983-0.995 (256-128-64, 8 passes of one
        pair); 15 planted pairs among p = 39 features 0.999 vs 0.997, among p = 100 0.945-0.976
        vs 0.986 (32-16 there: 0.92-0.94). At p = 300 a wider network does worse (0.69 with 128-64,
        0.78 with 64-32): 1000 samples do not support more weights.
    l1 : float, default 1e-4
        L1 penalty on all MLP weights (not on the linear main-effect part), added to the weighted
        MSE of the standardised outputs.
    learning_rate : float, default 3e-2
        Adam's step size (with the small default network, 3e-2 and ``patience=5`` train about
        half the epochs of 1e-2 and 10, at the same accuracy on the NID test panel).
    max_epochs : int, default 100
        Passes over the training samples at most.
    batch_size : int, default 100
        Mini-batch size (per instance). ``None``: full batch.
    validation_fraction : float, default 0.2
        Share of each instance's samples held out for early stopping and fit quality. ``0``: no
        early stopping (train ``max_epochs``; fit quality is measured on the training samples).
    patience : int, default 5
        Epochs without a better validation loss before an instance stops; the weights of its best
        epoch are kept.
    input_init_scale : float, default 0.03
        The first layer's initial weights are PyTorch's default times this factor. Dense random
        input weights read as interactions between every pair; within the epochs early stopping
        allows, the L1 penalty does not erase them, so the first layer starts nearly empty and
        grows the weights the data ask for (mean pairwise AUC on the NID test functions: about 0.66
        with 1.0, 0.80 with 0.03).
    stages : int, default 6
        Detection passes (:mod:`.stages`). After each pass, the strongest new pairs are
        explained away exactly (AND-crosses of the found pairs and of every set all of whose
        pairs were found, in a least-squares fit with the main effects) and the next network is
        trained on the residual, rescaled, so weak interactions are read without the dominant
        ones spread over the same units. ``1``: one pass, MADEX as published. Mean pairwise AUC
        against the NID test functions' complete sets at 1000 samples: 0.79 with 1 pass, 0.99
        with the defaults (``tests/test_detectors.py``, ``benchmarks/local_detection.py``);
        against 15 planted pairs among 39 features, 0.83 with MADEX's one pass, 0.975 with 5
        passes of 2 pairs (too few for 15 pairs), 0.999 with the defaults. Each pass costs about
        one more training. An instance stops early when a pass finds no new pair or nothing is
        left to explain.
    pairs_per_stage : int, default 3
        New pairs a pass explains away at most (those within ``stage_threshold`` of its
        strongest new pair). A selected pair that the least-squares crosses then show to explain
        nothing (NID mixed it in from a stronger pair's units) is dropped again
        (:data:`~.stages.REJECT_RATIO`).
    stage_threshold : float, default 0.5
        With ``pairs_per_stage > 1``: a further pair must reach this share of the pass's
        strongest new pair.
    cutoff : bool, default False
        After ranking, add AND-crosses of the top interactions one by one to a ridge regression on
        top of the linear main effects while the held-out R^2 improves by more than
        ``cutoff_tolerance``; keep only that many interactions. Needs ``validation_fraction > 0``.
    cutoff_tolerance : float, default 1e-3
        Smallest gain in held-out R^2 that counts as an improvement for ``cutoff``.
    max_order : int or None, default None
        Largest interaction order reported. ``None``: ``min(p, 10)``. With 2, ``interactions``
        ranks the pairwise strengths (NID's pairwise mode).
    max_interactions : int, default 100
        Length of the ranked, pruned list of interactions kept per instance.
    device : str or torch.device, default "cpu"
    dtype : torch.dtype, default torch.float32
    instance_batch : int or None, default 128
        Instances whose networks are stacked and trained together; more are trained in groups
        of this size (with the same random draws), which bounds memory
        (each stack holds its instances' standardised masks, ``instance_batch * n * p`` floats,
        a few times). Stacking amortises Python and kernel overhead: on 100 instances of a
        39-field ONNX CTR model at 1000 samples (1 thread), 55 ms per instance in one stack, 59
        in stacks of 32, about 220 one at a time. ``None``: all instances in one stack.

    refit : bool, default True
        Re-estimate what NID found as pure effects (:mod:`glider_plugins.detectors.pure_effects`): a weighted least-squares
        fit of the outputs on the bias, the main effects and the AND-crosses of the pairs (all of
        them while there are :data:`~.refit.SAMPLES_PER_TERM` training samples per term, else the found and
        strongest ones), then NID's candidate sets of three or more features one at a time, each
        kept only when its own cross lowers the held-out error and its effect is at least
        ``min_set_share`` of the largest interaction. Strengths are then ``|m(S)|`` in output units
        for pairs and sets alike (a term is reported only when it exceeds
        :data:`~glider_plugins.detectors.pure_effects.SIGNIFICANCE` standard errors), ``pairwise_strengths`` each pair's
        mass ``sum |m(S)|`` over the fitted terms holding it (each term counting by what it
        exceeds that noise margin), and ``main_effects`` the fitted ``m({i})``. Where the masks
        afford every set of up to three of the features that interact (equal sample weights; p up
        to 10-16 at 1000 LIME masks), the refit is complete instead
        (:func:`~.refit.complete_refit`): every pure effect up to the order the masks allow
        and NID's larger candidate sets, fitted at once as the ``"moebius"`` detector fits them
        (``metadata["refit"] == "complete"``); on the real-model panel that lifts pair
        precision@5 from 0.63-0.83 to 0.81-0.97 and Spearman from 0.66-0.86 to 0.92-1.00.
        ``False``: NID's own measures (below).
    max_set_size : int, default 5
        With ``refit``: the largest set confirmed. A cross of many features is on in few LIME
        masks, and there it can absorb what a fit of pairs and a few sets cannot express of a
        saturating model: on the panel's DeepFM (probabilities, 10 fields), sets of five or more
        features were confirmed in the top 5 of 25 % of the rows with no limit, 15 % with 5, none
        with 4, while the exact reference's top 5 holds sets of at most 4 there. With 4, the NID
        functions' 5-way sets go missing (full-set pairwise AUC 0.9595 instead of 0.96 and more).
    significance : float, default 2.0
        With ``refit``: a term is reported only when its effect exceeds this many standard errors,
        and counts in the pair masses by what it exceeds them (:data:`~glider_plugins.detectors.pure_effects.SIGNIFICANCE`).
        ``0``: every fitted term, noise included.
    background_rows : int or None, default 32
        With ``baselines=Background(data)``: every mask is queried once per background row (up to
        this many; each row the baseline of one pass) and the outputs averaged, so the samples
        describe the background-averaged game instead of each drawing its own row (on the
        panel's census and breast-cancer models, pair precision@5 against the exact reference
        0.13-0.22 with one row per sample, 0.63-0.64 paired). Costs ``n_samples`` queries per row.
        ``None``: one random row per sample.
    min_set_share : float, default 0.05
        See ``refit``.

    Notes
    -----
    Without ``refit``: ``pairwise_strengths`` is NID's pairwise measure, summed over all first-layer units, in
    output units: for a pair a pass found, that pass's strength; for the others, the last
    pass's. ``metadata["found_pairs"]`` lists the found pairs in order, ``metadata["passes"]``
    the passes run. With several passes, a set's arbitrary-order strength is its largest over the
    passes, capped by the strength of its weakest pair that no pass found; the parts of a set of
    three or more features whose pairs were all found are dropped (it was explained away whole).
    ``interactions`` is NID's arbitrary-order ranking: each unit proposes the prefixes (sizes
    2..max_order) of its inputs sorted by ``|W1[u, :]|``, a prefix scoring ``z_u`` times its
    smallest weight; equal sets add up over units; then, walking down the ranking, a set is
    dropped when a stronger set already kept contains it (NID's pruning, as in the authors'
    code: a pair ranked above its triple stays, a pair ranked below it goes). ``main_effects``
    are the linear part's weights in output units: the change in the score when a feature is
    switched on, the others held as they are. All strengths are in output units too.
    """

    name: ClassVar[str] = "nid"

    def __init__(
        self,
        hidden_units: Sequence[int] | None = None,
        l1: float = 1e-4,
        learning_rate: float = 3e-2,
        max_epochs: int = 100,
        batch_size: int | None = 100,
        validation_fraction: float = 0.2,
        patience: int = 5,
        input_init_scale: float = 0.03,
        stages: int = 6,
        pairs_per_stage: int = 3,
        stage_threshold: float = 0.5,
        cutoff: bool = False,
        cutoff_tolerance: float = 1e-3,
        max_order: int | None = None,
        max_interactions: int = 100,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        instance_batch: int | None = 128,
        refit: bool = True,
        min_set_share: float = 0.05,
        background_rows: int | None = 32,
        max_set_size: int = 5,
        significance: float = SIGNIFICANCE,
    ):
        if hidden_units is not None and (
            isinstance(hidden_units, (int, np.integer)) or not isinstance(hidden_units, Sequence)
            or len(hidden_units) == 0 or not all(is_int(h) and h > 0 for h in hidden_units)
        ):
            raise InputError(f"hidden_units must be a non-empty sequence of positive integers or None, got {hidden_units!r}")
        check_number("l1", l1, low=0.0)
        check_number("learning_rate", learning_rate, low=0.0, low_open=True)
        check_int("max_epochs", max_epochs)
        check_int("batch_size", batch_size, allow_none=True)
        check_number("validation_fraction", validation_fraction, low=0.0, high=1.0, high_open=True)
        if not is_int(patience) or patience < 0:
            raise InputError(f"patience must be a non-negative integer, got {patience!r}")
        check_number("input_init_scale", input_init_scale, low=0.0, low_open=True)
        if not isinstance(cutoff, (bool, np.bool_)):
            raise InputError(f"cutoff must be True or False, got {cutoff!r}")
        if cutoff and validation_fraction == 0:
            raise InputError("cutoff=True needs held-out samples: set validation_fraction > 0")
        check_number("cutoff_tolerance", cutoff_tolerance, low=0.0)
        check_int("stages", stages)
        check_int("pairs_per_stage", pairs_per_stage)
        check_number("stage_threshold", stage_threshold, low=0.0, high=1.0)
        check_int("max_order", max_order, 2, allow_none=True)
        check_int("max_interactions", max_interactions)
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"device must name a torch device, got {device!r}") from exc
        if dtype not in (torch.float32, torch.float64):
            raise InputError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")

        check_int("instance_batch", instance_batch, allow_none=True)
        if not isinstance(refit, (bool, np.bool_)):
            raise InputError(f"refit must be True or False, got {refit!r}")
        check_number("min_set_share", min_set_share, low=0.0, high=1.0)
        check_int("background_rows", background_rows, allow_none=True)
        check_int("max_set_size", max_set_size, 2)
        check_number("significance", significance, low=0.0)
        self.significance = float(significance)
        self.max_set_size = int(max_set_size)
        self.background_rows = None if background_rows is None else int(background_rows)
        self.refit = bool(refit)
        self.min_set_share = float(min_set_share)
        self.instance_batch = None if instance_batch is None else int(instance_batch)
        self.hidden_units = None if hidden_units is None else tuple(int(h) for h in hidden_units)
        self.l1 = float(l1)
        self.learning_rate = float(learning_rate)
        self.max_epochs = int(max_epochs)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.validation_fraction = float(validation_fraction)
        self.patience = int(patience)
        self.input_init_scale = float(input_init_scale)
        self.stages = int(stages)
        self.pairs_per_stage = int(pairs_per_stage)
        self.stage_threshold = float(stage_threshold)
        self.cutoff = bool(cutoff)
        self.cutoff_tolerance = float(cutoff_tolerance)
        self.max_order = None if max_order is None else int(max_order)
        self.max_interactions = int(max_interactions)
        self.device = device
        self.dtype = dtype

    def network_for(self, n_features: int) -> tuple[int, ...]:
        """The hidden layers used for ``n_features`` features: ``hidden_units``, or by default
        (32, 16) below 64 features and (64, 32) from 64 on."""
        if self.hidden_units is not None:
            return self.hidden_units
        return (32, 16) if n_features < 64 else (64, 32)

    def min_samples(self, n_features: int) -> int:
        """``max(20, 2 p)``: enough samples to fit the p + 1 linear terms and hold some out."""
        return max(20, 2 * int(n_features))

    def detect(
        self,
        masks: np.ndarray,
        outputs: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        max_order: int | None = None,
        rng: np.random.Generator,
        show_progress: bool = False,
    ) -> list[LocalInteractions]:
        """Fit one masked-input MLP per instance (all at once) and decode NID interactions.

        See :meth:`Detector.detect`. ``metadata`` holds ``val_loss`` (weighted MSE of the
        standardised outputs), ``val_r2``, ``epochs`` (epochs trained), ``best_epoch``,
        ``output_mean``/``output_scale`` (the standardisation) and, with
        ``cutoff``, ``cutoff`` (number kept) and ``cutoff_r2`` (held-out R^2 after adding 0, 1, ...
        crosses).
        """
        masks, outputs, weights, max_order = check_experiments(
            masks, outputs, weights, max_order, rng
        )
        n_inst, n, p = masks.shape
        if n_inst == 0:
            return []
        if n < self.min_samples(p):
            raise InputError(
                f"the nid detector needs at least {self.min_samples(p)} samples per instance for p={p}, got {n}"
            )
        if max_order is None:
            max_order = self.max_order if self.max_order is not None else DEFAULT_MAX_ORDER
        max_order = min(max_order, p)

        seed = int(rng.integers(0, 2**63 - 1))
        split = split_samples(n_inst, n, self.validation_fraction, rng)
        sample_w = np.ones_like(outputs) if weights is None else weights
        mean, scale, additive = standardise(masks, outputs, sample_w, split)
        targets = (outputs - mean[:, None]) / scale[:, None]

        fit = self._fit(masks, targets, sample_w, split, additive / scale[:, None], 0, seed, show_progress)
        w_input, z = unit_influence(fit["mlp_weights"])
        pairwise = nid_pairwise(w_input, z) * scale[:, None, None]  # output units
        passes = None
        if self.stages > 1:
            passes = run_passes(
                masks, outputs, sample_w, split, FirstPass(pairwise, w_input, z, scale),
                stages=self.stages, pairs_per_stage=self.pairs_per_stage,
                stage_threshold=self.stage_threshold, max_order=max_order,
                train=lambda *args: self._fit(*args, seed, show_progress),
            )
            pairwise = passes.pairwise

        results = []
        for k in range(n_inst):
            ranked = rank_instance(k, max_order, pairwise[k], w_input[k], z[k], float(scale[k]), passes, self.max_interactions)
            main_effects = fit["linear_weights"][k] * scale[k]
            refit_meta: dict[str, Any] = {}
            signed, baseline = None, None
            if self.refit:
                ranked, pairwise[k], main_effects, refit_meta, signed, baseline = refit(
                    masks[k], outputs[k], sample_w[k], split[k], pairwise[k],
                    None if passes is None else passes.found[k], ranked,
                    max_size=min(max_order, self.max_set_size), min_set_share=self.min_set_share,
                    significance=self.significance, max_interactions=self.max_interactions,
                )
            metadata = {"detector": self.name, **fit_metadata(fit, k, float(mean[k]), float(scale[k]), passes)}
            if self.cutoff:
                kept, curve = cutoff_interactions(
                    masks[k], targets[k], sample_w[k], split[k], ranked, self.cutoff_tolerance
                )
                ranked = ranked[:kept]
                metadata["cutoff"] = kept
                metadata["cutoff_r2"] = curve
            metadata.update(refit_meta)
            results.append(
                LocalInteractions(
                    interactions=ranked,
                    main_effects=main_effects,
                    pairwise_strengths=pairwise[k],
                    metadata=metadata,
                    signed_values=signed,
                    baseline_value=baseline,
                )
            )
        return results

    def _fit(self, masks: np.ndarray, targets: np.ndarray, sample_w: np.ndarray, split: np.ndarray,
             linear_start: np.ndarray, stage: int, seed: int, show_progress: bool) -> dict[str, Any]:
        """Train the instances' networks of pass ``stage`` (:func:`~.training.train_in_stacks`)."""
        return train_in_stacks(
            masks, targets, sample_w, split, linear_start, stage=stage, seed=seed, instance_batch=self.instance_batch,
            hidden_units=self.network_for(masks.shape[2]), l1=self.l1, learning_rate=self.learning_rate,
            max_epochs=self.max_epochs, batch_size=self.batch_size, patience=self.patience,
            input_init_scale=self.input_init_scale, device=self.device, dtype=self.dtype, show_progress=show_progress,
        )
