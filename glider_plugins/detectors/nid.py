"""MADEX's detector: Neural Interaction Detection (NID) on local perturbations, batched over instances.

For every instance, an MLP learns the map from perturbation masks (p,) in {0, 1} to the model's
score; NID then reads interactions off its weights (Tsang et al., ICLR 2018 and ICLR 2020):

* the network is ``linear(mask) + MLP(mask)``: the linear part (per-feature weights + bias, not
  penalised) models main effects, the ReLU MLP (L1 penalty on all its weights) what is left, so
  the MLP's first layer only has to carry interactions;
* a hidden unit ``u`` of the first layer gets the influence ``z_u``: the product of absolute weight
  matrices of the later layers, ``z = |w_out|^T |W_L| ... |W_2|``;
* a set ``I`` of features interacts through ``u`` as much as its weakest input weight,
  ``min_{i in I} |W1[u, i]|``; summed over units with weights ``z_u``.

Fitting choices, each measured on the NID test functions (``tests/test_detectors.py``):

* outputs are centred and divided by the spread of the residual of an additive least-squares fit
  (not by their own spread), and the linear part starts at that fit. Interactions often carry a
  few per cent of an instance's variance; scaled by the total spread they cost less than the L1
  penalty and the MLP drops them. Main effects and strengths are reported in output units;
* mask inputs are standardised per instance and feature (as Archipelago's NID baseline does);
* the first layer starts small (``input_init_scale``): dense random input weights read as
  interactions between every pair of features, and early stopping ends training before L1
  erases them.

Training is batched: the N instance networks are stacked (weights of shape (N, in, out)) and
trained together with ``torch.baddbmm`` and Adam (elementwise, so per instance); each instance
stops early on its own held-out samples and then leaves the batch. Randomness (initialisation,
splits, mini-batch order) comes from one ``torch.Generator`` seeded from the ``rng`` passed in, so
a seed reproduces a run exactly; an instance's initial weights depend on its position in the
batch, so a batch and one-at-a-time runs agree on what they find, not bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from ..errors import InputError
from ..results import LocalInteractions
from .archdetect import check_experiments
from .base import Detector

__all__ = ["NIDDetector", "nid_pairwise", "nid_anyorder", "prune_redundant"]

#: Largest interaction order reported when neither the constructor nor ``detect`` set one.
DEFAULT_MAX_ORDER = 10


class NIDDetector(Detector):
    """Neural Interaction Detection on masks (MADEX), one MLP per instance, all trained at once.

    Parameters
    ----------
    hidden_units : sequence of int, default (256, 128, 64)
        Widths of the ReLU layers of the interaction MLP (MADEX's architecture).
    l1 : float, default 1e-4
        L1 penalty on all MLP weights (not on the linear main-effect part), added to the weighted
        MSE of the standardised outputs.
    learning_rate : float, default 1e-2
        Adam's step size.
    max_epochs : int, default 100
        Passes over the training samples at most.
    batch_size : int, default 100
        Mini-batch size (per instance). ``None``: full batch.
    validation_fraction : float, default 0.2
        Share of each instance's samples held out for early stopping and fit quality. ``0``: no
        early stopping (train ``max_epochs``; fit quality is measured on the training samples).
    patience : int, default 10
        Epochs without a better validation loss before an instance stops; the weights of its best
        epoch are kept.
    input_init_scale : float, default 0.03
        The first layer's initial weights are PyTorch's default times this factor. Dense random
        input weights read as interactions between every pair; within the epochs early stopping
        allows, the L1 penalty does not erase them, so the first layer starts nearly empty and
        grows the weights the data ask for (mean pairwise AUC on the NID test functions: about 0.66
        with 1.0, 0.80 with 0.03).
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

    Notes
    -----
    ``pairwise_strengths`` is NID's pairwise measure, summed over all first-layer units.
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
        hidden_units: Sequence[int] = (256, 128, 64),
        l1: float = 1e-4,
        learning_rate: float = 1e-2,
        max_epochs: int = 100,
        batch_size: int | None = 100,
        validation_fraction: float = 0.2,
        patience: int = 10,
        input_init_scale: float = 0.03,
        cutoff: bool = False,
        cutoff_tolerance: float = 1e-3,
        max_order: int | None = None,
        max_interactions: int = 100,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        if isinstance(hidden_units, (int, np.integer)) or not isinstance(hidden_units, Sequence):
            raise InputError(
                f"hidden_units must be a sequence of positive integers, got {hidden_units!r}"
            )
        if len(hidden_units) == 0 or not all(_is_int(h) and h > 0 for h in hidden_units):
            raise InputError(
                f"hidden_units must be a non-empty sequence of positive integers, got {hidden_units!r}"
            )
        _check_number("l1", l1, low=0.0)
        _check_number("learning_rate", learning_rate, low=0.0, low_open=True)
        if not _is_int(max_epochs) or max_epochs < 1:
            raise InputError(f"max_epochs must be a positive integer, got {max_epochs!r}")
        if batch_size is not None and (not _is_int(batch_size) or batch_size < 1):
            raise InputError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        _check_number("validation_fraction", validation_fraction, low=0.0, high=1.0, high_open=True)
        if not _is_int(patience) or patience < 0:
            raise InputError(f"patience must be a non-negative integer, got {patience!r}")
        _check_number("input_init_scale", input_init_scale, low=0.0, low_open=True)
        if not isinstance(cutoff, (bool, np.bool_)):
            raise InputError(f"cutoff must be True or False, got {cutoff!r}")
        if cutoff and validation_fraction == 0:
            raise InputError("cutoff=True needs held-out samples: set validation_fraction > 0")
        _check_number("cutoff_tolerance", cutoff_tolerance, low=0.0)
        if max_order is not None and (not _is_int(max_order) or max_order < 2):
            raise InputError(f"max_order must be an integer >= 2 or None, got {max_order!r}")
        if not _is_int(max_interactions) or max_interactions < 1:
            raise InputError(
                f"max_interactions must be a positive integer, got {max_interactions!r}"
            )
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"device must name a torch device, got {device!r}") from exc
        if dtype not in (torch.float32, torch.float64):
            raise InputError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")

        self.hidden_units = tuple(int(h) for h in hidden_units)
        self.l1 = float(l1)
        self.learning_rate = float(learning_rate)
        self.max_epochs = int(max_epochs)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.validation_fraction = float(validation_fraction)
        self.patience = int(patience)
        self.input_init_scale = float(input_init_scale)
        self.cutoff = bool(cutoff)
        self.cutoff_tolerance = float(cutoff_tolerance)
        self.max_order = None if max_order is None else int(max_order)
        self.max_interactions = int(max_interactions)
        self.device = device
        self.dtype = dtype

    def __repr__(self) -> str:
        return (
            f"NIDDetector(hidden_units={self.hidden_units}, l1={self.l1}, learning_rate={self.learning_rate}, "
            f"max_epochs={self.max_epochs}, batch_size={self.batch_size}, "
            f"validation_fraction={self.validation_fraction}, cutoff={self.cutoff})"
        )

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
        split = _split(n_inst, n, self.validation_fraction, rng)
        sample_w = np.ones_like(outputs) if weights is None else weights
        mean, scale, additive = _standardise(masks, outputs, sample_w, split)
        targets = (outputs - mean[:, None]) / scale[:, None]

        fit = _train(
            masks,
            targets,
            sample_w,
            split,
            additive / scale[:, None],
            hidden_units=self.hidden_units,
            l1=self.l1,
            learning_rate=self.learning_rate,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            patience=self.patience,
            input_init_scale=self.input_init_scale,
            seed=seed,
            device=self.device,
            dtype=self.dtype,
            show_progress=show_progress,
        )

        w_input, z = _unit_influence(fit["mlp_weights"])
        pairwise = nid_pairwise(w_input, z)
        results = []
        for k in range(n_inst):
            if max_order == 2:
                iu, ju = np.triu_indices(p, 1)
                ranked = sorted(
                    (
                        ((int(i), int(j)), float(pairwise[k, i, j]))
                        for i, j in zip(iu, ju, strict=True)
                    ),
                    key=lambda e: (-e[1], e[0]),
                )
                ranked = [e for e in ranked if e[1] > 0][: self.max_interactions]
            else:
                ranked = prune_redundant(
                    nid_anyorder(w_input[k], z[k], max_order), self.max_interactions
                )
            # NID strengths are in units of the standardised output: back to output units
            ranked = [(members, value * scale[k]) for members, value in ranked]
            metadata: dict[str, Any] = {
                "detector": self.name,
                "val_loss": float(fit["val_loss"][k]),
                "val_r2": float(fit["val_r2"][k]),
                "epochs": int(fit["epochs"][k]),
                "best_epoch": int(fit["best_epoch"][k]),
                "output_mean": float(mean[k]),
                "output_scale": float(scale[k]),
            }
            if self.cutoff:
                kept, curve = _cutoff(
                    masks[k], targets[k], sample_w[k], split[k], ranked, self.cutoff_tolerance
                )
                ranked = ranked[:kept]
                metadata["cutoff"] = kept
                metadata["cutoff_r2"] = curve
            results.append(
                LocalInteractions(
                    interactions=ranked,
                    main_effects=fit["linear_weights"][k] * scale[k],
                    pairwise_strengths=pairwise[k] * scale[k],
                    metadata=metadata,
                )
            )
        return results


# ----------------------------------------------------------------------------------------------
# training


def _split(n_inst: int, n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Per-instance train/validation split, shape (N, n), bool (``True`` = validation).

    Row 0 (the unperturbed instance) always trains. Without validation, all ``False``.
    """
    n_val = int(round(fraction * n)) if fraction > 0 else 0
    n_val = min(n_val, n - 2)
    is_val = np.zeros((n_inst, n), dtype=bool)
    if n_val <= 0:
        return is_val
    keys = rng.random((n_inst, n - 1))
    chosen = np.argsort(keys, axis=1)[:, :n_val] + 1
    np.put_along_axis(is_val, chosen, True, axis=1)
    return is_val


def _init_layers(
    n_inst: int,
    sizes: Sequence[int],
    gen: torch.Generator,
    device: torch.device,
    dtype: torch.dtype,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """PyTorch's default ``nn.Linear`` initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), stacked."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / math.sqrt(fan_in)
        w = (torch.rand((n_inst, fan_in, fan_out), generator=gen, dtype=dtype) * 2 - 1) * bound
        b = (torch.rand((n_inst, 1, fan_out), generator=gen, dtype=dtype) * 2 - 1) * bound
        layers.append((w.to(device), b.to(device)))
    return layers


def _forward(x: torch.Tensor, params: list[torch.Tensor], n_layers: int) -> torch.Tensor:
    """Stacked forward pass: x (N, B, p) -> (N, B). ``params`` = MLP (w, b) pairs, then linear w, b."""
    h = x
    for layer in range(n_layers):
        w, b = params[2 * layer], params[2 * layer + 1]
        h = torch.baddbmm(b, h, w)
        if layer < n_layers - 1:
            h = torch.relu(h)
    lin_w, lin_b = params[-2], params[-1]
    return (h + torch.baddbmm(lin_b, x, lin_w)).squeeze(-1)


def _train(
    masks: np.ndarray,
    targets: np.ndarray,
    sample_w: np.ndarray,
    is_val: np.ndarray,
    linear_start: np.ndarray,
    *,
    hidden_units: tuple[int, ...],
    l1: float,
    learning_rate: float,
    max_epochs: int,
    batch_size: int | None,
    patience: int,
    input_init_scale: float,
    seed: int,
    device: torch.device,
    dtype: torch.dtype,
    show_progress: bool,
) -> dict[str, Any]:
    """Train N stacked networks with per-instance Adam and early stopping.

    All instances start together; after each epoch, instances whose validation loss has not
    improved for ``patience`` epochs stop (their best weights are kept) and leave the batch, so
    the remaining epochs only cost what the instances still training need.

    Returns
    -------
    dict
        ``mlp_weights``: list of numpy arrays (N, in, out), best epoch of each instance;
        ``linear_weights`` (N, p) per unit of mask, ``val_loss`` (N,), ``val_r2`` (N,),
        ``epochs`` (N,), ``best_epoch`` (N,).
    """
    n_inst, n, p = masks.shape
    gen = torch.Generator().manual_seed(seed)
    sizes = [p, *hidden_units, 1]
    n_layers = len(sizes) - 1

    params: list[torch.Tensor] = []
    for layer, (w, b) in enumerate(_init_layers(n_inst, sizes, gen, device, dtype)):
        params += [w * input_init_scale if layer == 0 else w, b]
    # standardised inputs (per instance and feature), as the NID baseline of Archipelago does
    xm = masks.astype(np.float64)
    mu = xm.mean(axis=1, keepdims=True)
    sd = xm.std(axis=1, keepdims=True)
    sd = np.where(sd > 0, sd, 1.0)
    xm = (xm - mu) / sd
    # the additive start, rewritten for standardised inputs
    lin_w = torch.as_tensor(
        linear_start[:, 1:, None] * sd.transpose(0, 2, 1), dtype=dtype, device=device
    )
    lin_b = linear_start[:, :1] + (linear_start[:, 1:] * mu[:, 0]).sum(axis=1, keepdims=True)
    lin_b = torch.as_tensor(lin_b[:, :, None], dtype=dtype, device=device)
    params += [lin_w, lin_b]
    for t in params:
        t.requires_grad_(True)

    has_val = bool(is_val.any())
    n_tr = int((~is_val[0]).sum())
    order = np.argsort(is_val, axis=1, kind="stable")  # train rows first, then validation rows
    x_all = torch.as_tensor(
        np.take_along_axis(xm, order[:, :, None], axis=1), dtype=dtype, device=device
    )
    y_all = torch.as_tensor(np.take_along_axis(targets, order, axis=1), dtype=dtype, device=device)
    w_all = torch.as_tensor(np.take_along_axis(sample_w, order, axis=1), dtype=dtype, device=device)
    # data of the instances still training, sliced down whenever some stop
    data = [x_all[:, :n_tr], y_all[:, :n_tr], w_all[:, :n_tr]]
    data += [x_all[:, n_tr:], y_all[:, n_tr:], w_all[:, n_tr:]] if has_val else data[:3]
    w_va_full = data[5]
    w_va_sum_full = w_va_full.sum(dim=1).clamp_min(1e-12)
    y_va_mean = (w_va_full * data[4]).sum(dim=1) / w_va_sum_full
    ss_tot = (w_va_full * (data[4] - y_va_mean[:, None]) ** 2).sum(dim=1).clamp_min(1e-12)

    bs = n_tr if batch_size is None else min(batch_size, n_tr)
    n_batches = max(1, math.ceil(n_tr / bs))

    adam = _StackedAdam(params, learning_rate)
    working = torch.arange(n_inst, device=device)  # ids of the instances still training
    best_loss = torch.full((n_inst,), float("inf"), dtype=dtype, device=device)
    best_params = [t.detach().clone() for t in params]
    best_epoch = torch.zeros(n_inst, dtype=torch.long, device=device)
    epochs = torch.zeros(n_inst, dtype=torch.long, device=device)
    bad_epochs = torch.zeros(n_inst, dtype=torch.long, device=device)

    epoch_iter: Any = range(max_epochs)
    if show_progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="nid: training", unit="epoch")
    for epoch in epoch_iter:
        x_tr, y_tr, w_tr, x_va, y_va, w_va = data
        n_work = working.numel()
        rows = torch.arange(n_work, device=device)[:, None]
        perm = torch.argsort(
            torch.rand((n_work, n_tr), generator=gen, dtype=dtype).to(device), dim=1
        )
        for b in range(n_batches):
            idx = perm[:, b * bs : (b + 1) * bs]
            xb, yb, wb = x_tr[rows, idx], y_tr[rows, idx], w_tr[rows, idx]
            pred = _forward(xb, adam.params, n_layers)
            mse = (wb * (pred - yb) ** 2).sum(dim=1) / wb.sum(dim=1).clamp_min(1e-12)
            loss = mse.sum()  # instances do not share parameters: the sum trains each on its own
            if l1 > 0:
                loss = loss + l1 * sum(
                    adam.params[2 * layer].abs().sum() for layer in range(n_layers)
                )
            adam.step(torch.autograd.grad(loss, adam.params))
        epochs[working] += 1
        with torch.no_grad():
            pred = _forward(x_va, adam.params, n_layers)
            val = (w_va * (pred - y_va) ** 2).sum(dim=1) / w_va.sum(dim=1).clamp_min(1e-12)
            improved = val < best_loss[working]
            ids = working[improved]
            best_loss[ids] = val[improved]
            best_epoch[ids] = epoch + 1
            for keep, cur in zip(best_params, adam.params, strict=True):
                keep[ids] = cur[improved]
            bad_epochs[working] = torch.where(improved, 0, bad_epochs[working] + 1)
            going = bad_epochs[working] <= patience if has_val else torch.ones_like(improved)
        if show_progress:
            epoch_iter.set_postfix(training=int(going.sum()), refresh=False)
        if not bool(going.any()):
            break
        if not bool(going.all()):  # drop stopped instances from the batch: no work on them
            working = working[going]
            data = [t[going] for t in data]
            adam.keep(going)
    if show_progress:
        epoch_iter.close()
    if not has_val:  # no early stopping: keep the last weights
        best_params = [t.detach().clone() for t in adam.params]
        best_epoch = epochs.clone()
        with torch.no_grad():
            pred = _forward(data[3], best_params, n_layers)
            best_loss = (w_va_full * (pred - data[4]) ** 2).sum(dim=1) / w_va_sum_full

    val_r2 = 1.0 - best_loss * w_va_sum_full / ss_tot
    to_np = lambda t: t.detach().cpu().to(torch.float64).numpy()  # noqa: E731
    return {
        "mlp_weights": [to_np(best_params[2 * layer]) for layer in range(n_layers)],
        "linear_weights": to_np(best_params[-2])[:, :, 0] / sd[:, 0],
        "val_loss": to_np(best_loss),
        "val_r2": to_np(val_r2),
        "epochs": epochs.cpu().numpy(),
        "best_epoch": best_epoch.cpu().numpy(),
    }


def _additive_fit(
    masks: np.ndarray, y: np.ndarray, sample_w: np.ndarray, is_val: np.ndarray, ridge: float = 1e-8
) -> np.ndarray:
    """Weighted least-squares fit of ``bias + sum_i w_i mask_i`` on the training rows.

    Returns
    -------
    numpy.ndarray, shape (N, p + 1)
        Bias first, then the p weights.
    """
    n_inst, n, p = masks.shape
    coef = np.zeros((n_inst, p + 1))
    for k in range(n_inst):  # one instance at a time: the (n, p) design stays small
        rows = ~is_val[k]
        design = np.column_stack([np.ones(int(rows.sum())), masks[k, rows]]).astype(np.float64)
        w = sample_w[k, rows]
        gram = design.T @ (design * w[:, None])
        rhs = design.T @ (w * y[k, rows])
        jitter = ridge * max(float(np.trace(gram)) / (p + 1), 1e-300)
        coef[k] = np.linalg.solve(gram + jitter * np.eye(p + 1), rhs)
    return coef


def _standardise(
    masks: np.ndarray,
    outputs: np.ndarray,
    sample_w: np.ndarray,
    is_val: np.ndarray,
    floor: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale each instance's outputs; the additive fit the linear part starts from.

    The scale is the weighted standard deviation of the residual of an additive (main-effect)
    least-squares fit on the training rows, floored at ``floor`` times the outputs' standard
    deviation. The linear part starts at that fit, so the MLP sees a unit-variance residual to
    explain whatever share of the output interactions have; the L1 penalty therefore means the
    same thing for every instance. (Scaling by the total standard deviation instead lets L1 erase
    interactions that carry a few per cent of the variance.) Constant outputs get scale 1.

    Returns
    -------
    mean : numpy.ndarray, shape (N,)
    scale : numpy.ndarray, shape (N,)
    additive : numpy.ndarray, shape (N, p + 1)
        Bias and main-effect weights of the additive fit to ``outputs - mean``, original units.
    """
    w = sample_w * ~is_val
    w_sum = w.sum(axis=1)
    if (w_sum <= 0).any():
        k = int(np.flatnonzero(w_sum <= 0)[0])
        raise InputError(
            f"weights are zero on every training sample of instance {k}; give more samples weight"
        )
    mean = (w * outputs).sum(axis=1) / w_sum
    centred = outputs - mean[:, None]
    total = np.sqrt((w * centred**2).sum(axis=1) / w_sum)
    additive = _additive_fit(masks, centred, sample_w, is_val)
    fitted = np.stack([masks[k].astype(np.float64) @ additive[k, 1:] for k in range(len(masks))])
    resid = centred - additive[:, :1] - fitted
    resid_std = np.sqrt((w * resid**2).sum(axis=1) / w_sum)
    scale = np.maximum(resid_std, floor * total)
    scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
    return mean, scale, additive


class _StackedAdam:
    """Adam on stacked per-instance parameters (dim 0 = instance).

    Adam is elementwise, so one optimiser over the stack equals N independent optimisers.
    :meth:`keep` drops the rows (instances) that stopped training.
    """

    def __init__(
        self,
        params: list[torch.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = [torch.zeros_like(t) for t in params]
        self.v = [torch.zeros_like(t) for t in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            p.sub_((m / c1) / ((v / c2).sqrt_().add_(self.eps)), alpha=self.lr)

    @torch.no_grad()
    def keep(self, rows: torch.Tensor) -> None:
        """Keep only the instances where ``rows`` (bool, shape (n_working,)) is True."""
        self.params = [p[rows].clone().requires_grad_(True) for p in self.params]
        self.m = [m[rows] for m in self.m]
        self.v = [v[rows] for v in self.v]


# ----------------------------------------------------------------------------------------------
# decoding


def _unit_influence(mlp_weights: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """|W1| and unit influences from stacked weights.

    Parameters
    ----------
    mlp_weights : list of numpy.ndarray, shapes (N, p, h1), (N, h1, h2), ..., (N, hL, 1)

    Returns
    -------
    w_input : numpy.ndarray, shape (N, h1, p)
        ``|W1|`` with units as rows.
    z : numpy.ndarray, shape (N, h1)
        ``|w_out|^T |W_L| ... |W_2|`` per first-layer unit.
    """
    w_input = np.abs(mlp_weights[0]).transpose(0, 2, 1)
    z = np.abs(mlp_weights[-1])[:, :, 0]  # (N, hL)
    for w in reversed(mlp_weights[1:-1]):
        z = np.einsum("nio,no->ni", np.abs(w), z)
    return w_input, z


def nid_pairwise(w_input: np.ndarray, z: np.ndarray) -> np.ndarray:
    """NID pairwise strengths ``omega(i, j) = sum_u z_u min(|W1[u, i]|, |W1[u, j]|)``.

    Parameters
    ----------
    w_input : numpy.ndarray, shape (N, h1, p)
    z : numpy.ndarray, shape (N, h1)

    Returns
    -------
    numpy.ndarray, shape (N, p, p)
        Symmetric, zero diagonal.
    """
    n_inst, h1, p = w_input.shape
    out = np.zeros((n_inst, p, p))
    budget = 2**24  # entries of the (instances, units, p, p) temporary per chunk
    if h1 * p * p <= budget:  # whole instances per chunk
        step = max(1, budget // (h1 * p * p))
        for s in range(0, n_inst, step):
            a = w_input[s : s + step]
            out[s : s + step] = np.einsum(
                "nuij,nu->nij", np.minimum(a[:, :, :, None], a[:, :, None, :]), z[s : s + step]
            )
    else:  # large p: chunks of units within an instance
        step = max(1, budget // (p * p))
        for k in range(n_inst):
            for s in range(0, h1, step):
                a = w_input[k, s : s + step]
                out[k] += np.einsum(
                    "uij,u->ij", np.minimum(a[:, :, None], a[:, None, :]), z[k, s : s + step]
                )
    idx = np.arange(p)
    out[:, idx, idx] = 0.0
    return out


def nid_anyorder(
    w_input: np.ndarray, z: np.ndarray, max_order: int
) -> list[tuple[tuple[int, ...], float]]:
    """NID's arbitrary-order ranking for one instance (before pruning).

    Each unit ``u`` proposes the prefixes of its inputs sorted by ``|W1[u, :]|``, descending; the
    prefix of size ``k`` gets ``z_u`` times its ``k``-th largest weight. Strengths of equal sets
    add up over units.

    Parameters
    ----------
    w_input : numpy.ndarray, shape (h1, p)
    z : numpy.ndarray, shape (h1,)
    max_order : int
        Largest prefix size (2..p).

    Returns
    -------
    list of (tuple of int, float)
        Every proposed set with its strength, strongest first (ties: smaller sets, then ids).
    """
    h1, p = w_input.shape
    k_max = min(max_order, p)
    if k_max < 2:
        return []
    order = np.argsort(-w_input, axis=1, kind="stable")[:, :k_max]  # (h1, K)
    values = np.take_along_axis(w_input, order, axis=1)
    contrib = (z[:, None] * values)[:, 1:]  # prefixes of size 2..K, (h1, K-1)
    onehot = np.zeros((h1, k_max, p), dtype=bool)
    np.put_along_axis(onehot, order[:, :, None], True, axis=2)
    members = np.logical_or.accumulate(onehot, axis=1)[:, 1:]  # (h1, K-1, p)
    packed = np.packbits(members.reshape(-1, p), axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    uniq, inverse = np.unique(keys, return_inverse=True)
    strengths = np.bincount(inverse.ravel(), weights=contrib.ravel(), minlength=uniq.size)
    first = np.zeros(uniq.size, dtype=np.int64)
    first[inverse.ravel()[::-1]] = np.arange(inverse.size)[::-1]
    set_members = members.reshape(-1, p)[first]
    sets = [tuple(int(i) for i in np.flatnonzero(row)) for row in set_members]
    ranked = sorted(
        zip(sets, strengths.tolist(), strict=True), key=lambda e: (-e[1], len(e[0]), e[0])
    )
    return [(s, float(v)) for s, v in ranked if v > 0]


def prune_redundant(
    ranking: list[tuple[tuple[int, ...], float]], max_interactions: int = 100
) -> list[tuple[tuple[int, ...], float]]:
    """Drop every set that is a strict subset of a stronger set already kept (NID's rule).

    Walking down the ranking, a set is kept unless a kept (hence stronger) set contains it; pairs
    ranked above their supersets therefore stay. Stops after ``max_interactions`` kept sets.
    """
    kept: list[tuple[tuple[int, ...], float]] = []
    kept_sets: list[frozenset[int]] = []
    for members, strength in ranking:
        s = frozenset(members)
        if any(s < other for other in kept_sets):
            continue
        kept.append((members, strength))
        kept_sets.append(s)
        if len(kept) >= max_interactions:
            break
    return kept


# ----------------------------------------------------------------------------------------------
# cut-off


def _cutoff(
    masks: np.ndarray,
    targets: np.ndarray,
    sample_w: np.ndarray,
    is_val: np.ndarray,
    ranked: list[tuple[tuple[int, ...], float]],
    tolerance: float,
    ridge: float = 1e-3,
) -> tuple[int, list[float]]:
    """Number of top interactions whose AND-crosses keep improving held-out R^2.

    Parameters
    ----------
    masks : numpy.ndarray of bool, shape (n, p)
    targets, sample_w : numpy.ndarray, shape (n,)
    is_val : numpy.ndarray of bool, shape (n,)
    ranked : list of (tuple of int, float)
    tolerance : float
        Smallest R^2 gain that counts.
    ridge : float
        Ridge penalty, relative to the training weight mass.

    Returns
    -------
    kept : int
    curve : list of float
        Held-out R^2 with 0, 1, ... crosses (as far as evaluated).
    """
    x = masks.astype(np.float64)
    crosses = [x[:, list(members)].prod(axis=1) for members, _ in ranked]
    tr, va = ~is_val, is_val
    w_tr, w_va = sample_w[tr], sample_w[va]
    if w_va.sum() <= 0:  # held-out samples all weigh zero: score them equally
        w_va = np.ones_like(w_va)
    y_va_mean = np.average(targets[va], weights=w_va)
    ss_tot = max(float(np.sum(w_va * (targets[va] - y_va_mean) ** 2)), 1e-12)

    def r2(n_cross: int) -> float:
        design = np.column_stack([np.ones(len(x)), x, *crosses[:n_cross]])
        a, b = design[tr] * np.sqrt(w_tr)[:, None], targets[tr] * np.sqrt(w_tr)
        penalty = ridge * w_tr.sum() * np.eye(design.shape[1])
        penalty[0, 0] = 0.0  # no penalty on the intercept
        coef = np.linalg.solve(a.T @ a + penalty, a.T @ b)
        resid = targets[va] - design[va] @ coef
        return 1.0 - float(np.sum(w_va * resid**2)) / ss_tot

    curve = [r2(0)]
    kept = 0
    for k in range(1, len(crosses) + 1):
        curve.append(r2(k))
        if curve[-1] - curve[-2] <= tolerance:
            break
        kept = k
    return kept, curve


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_number(
    name: str,
    value: object,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
    ):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise InputError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise InputError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
