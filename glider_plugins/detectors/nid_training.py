"""Batched MLP training for NID: N small networks, one per instance, trained as one.

``linear(mask) + MLP(mask)`` per instance; weights stacked along a leading instance dimension and
applied with batched matrix products; Adam elementwise (so per instance); per-instance early
stopping on held-out samples, stopped instances leaving the batch. See :mod:`.nid`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..errors import InputError

__all__ = ["split_samples", "standardise", "train_stacked"]


def split_samples(n_inst: int, n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
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


def train_stacked(
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


def standardise(
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
