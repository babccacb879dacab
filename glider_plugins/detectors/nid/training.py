"""Batched MLP training for NID: the stacked networks of :mod:`.network`, trained as one.

The data each network learns from (standardised outputs, the additive start, the held-out split),
and the training loop: Adam over the stack, per-instance early stopping on held-out samples,
stopped instances leaving the batch, small stacks on one thread. See :mod:`.nid`.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..._threads import torch_threads
from ..._timing import spent
from ...errors import InputError
from .network import StackedAdam, StackLayout, init_params, loss_gradient, weighted_mse

__all__ = ["split_samples", "standardise", "train_in_stacks", "train_stacked"]


def split_samples(n_inst: int, n: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Train/validation split, shape (N, n), bool (``True`` = validation).

    The same sample positions are held out for every instance (each instance's samples are its
    own random masks, so this is a random split of each; and it keeps an instance's split
    independent of the batch around it). Row 0 (the unperturbed instance) always trains.
    Without validation, all ``False``.
    """
    n_val = int(round(fraction * n)) if fraction > 0 else 0
    n_val = min(n_val, n - 2)
    is_val = np.zeros((n_inst, n), dtype=bool)
    if n_val <= 0:
        return is_val
    chosen = np.argsort(rng.random(n - 1))[:n_val] + 1
    is_val[:, chosen] = True
    return is_val


#: Stacks of fewer instances train on one torch thread: their products are too small to share
#: out, and the idle threads' spinning then competes with the main one (measured on 2 cores:
#: one instance alone took 470 ms with the default 2 threads, 210 ms with 1; a stack of 100 took
#: 43 ms per instance with 2 threads, 52 with 1).
MIN_STACK_FOR_THREADS = 16


def _threads_for(n_inst: int) -> contextlib.AbstractContextManager[None]:
    """One torch thread while training a stack of fewer than :data:`MIN_STACK_FOR_THREADS`."""
    return torch_threads(1 if n_inst < MIN_STACK_FOR_THREADS else None)


def _threads_by_stack(train: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run ``train(masks, ...)`` under :func:`_threads_for` ``(len(masks))``."""

    @functools.wraps(train)
    def wrapped(masks: np.ndarray, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with _threads_for(len(masks)):
            return train(masks, *args, **kwargs)

    return wrapped


@_threads_by_stack
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

    Stacks of fewer than :data:`MIN_STACK_FOR_THREADS` instances train on one torch thread.

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
    layout = StackLayout([p, *hidden_units, 1])

    flat = init_params(n_inst, layout, input_init_scale, gen, dtype)
    # standardised inputs (per instance and feature), as the NID baseline of Archipelago does
    xm = masks.astype(np.float64)
    mu = xm.mean(axis=1, keepdims=True)
    sd = xm.std(axis=1, keepdims=True)
    sd = np.where(sd > 0, sd, 1.0)
    xm = (xm - mu) / sd
    # the additive start, rewritten for standardised inputs
    lin_w, lin_b = layout.linear(layout.views(flat))
    lin_w.copy_(torch.as_tensor(linear_start[:, 1:, None] * sd.transpose(0, 2, 1), dtype=dtype))
    bias = linear_start[:, :1] + (linear_start[:, 1:] * mu[:, 0]).sum(axis=1, keepdims=True)
    lin_b.copy_(torch.as_tensor(bias[:, :, None], dtype=dtype))
    flat = flat.to(device)

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

    adam = StackedAdam(flat, learning_rate)
    grad = torch.empty_like(flat)
    working = torch.arange(n_inst, device=device)  # ids of the instances still training
    best_loss = torch.full((n_inst,), float("inf"), dtype=dtype, device=device)
    best = flat.clone()
    best_epoch = torch.zeros(n_inst, dtype=torch.long, device=device)
    epochs = torch.zeros(n_inst, dtype=torch.long, device=device)
    bad_epochs = torch.zeros(n_inst, dtype=torch.long, device=device)

    epoch_iter: Any = range(max_epochs)
    if show_progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc="nid: training", unit="epoch")
    for epoch in epoch_iter:
        x_tr, y_tr, w_tr, x_va, y_va, w_va = data
        # this epoch's sample order, the same for every instance (whose samples are its own)
        perm = torch.randperm(n_tr, generator=gen).to(device)
        x_ep, y_ep, w_ep = x_tr.index_select(1, perm), y_tr.index_select(1, perm), w_tr.index_select(1, perm)
        for b in range(n_batches):
            batch = slice(b * bs, (b + 1) * bs)
            loss_gradient(x_ep[:, batch], y_ep[:, batch], w_ep[:, batch], adam.params, layout, l1, grad)
            adam.step(grad)
        epochs[working] += 1
        val = weighted_mse(x_va, y_va, w_va, layout.views(adam.params), layout)
        improved = val < best_loss[working]
        ids = working[improved]
        best_loss[ids] = val[improved]
        best_epoch[ids] = epoch + 1
        best[ids] = adam.params[improved]
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
            grad = torch.empty_like(adam.params)
    if show_progress:
        epoch_iter.close()
    if not has_val:  # no early stopping: keep the last weights
        best = adam.params.clone()
        best_epoch = epochs.clone()
        best_loss = weighted_mse(data[3], data[4], w_va_full, layout.views(best), layout)

    val_r2 = 1.0 - best_loss * w_va_sum_full / ss_tot
    to_np = lambda t: t.detach().cpu().to(torch.float64).numpy()  # noqa: E731
    best_parts = layout.views(best)
    return {
        "mlp_weights": [to_np(w) for w in layout.mlp_weights(best_parts)],
        "linear_weights": to_np(layout.linear(best_parts)[0])[:, :, 0] / sd[:, 0],
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


def train_in_stacks(
    masks: np.ndarray,
    targets: np.ndarray,
    sample_w: np.ndarray,
    split: np.ndarray,
    linear_start: np.ndarray,
    *,
    stage: int,
    seed: int,
    instance_batch: int | None,
    show_progress: bool = False,
    **training: Any,
) -> dict[str, Any]:
    """Train the instances' networks in stacks of ``instance_batch`` (:func:`train_stacked`, with
    ``training`` its options), joined along the instance axis.

    Pass 0 uses ``seed``, pass ``s`` a seed drawn from ``(seed, s)``; every stack of a pass uses
    its pass's seed, so an instance trains the same in any stack (the random draws are shared by
    the instances of a stack).
    """
    n_inst = len(masks)
    step = instance_batch or n_inst
    if stage == 0:
        group_seed = seed
    else:
        group_seed = int(np.random.SeedSequence(seed, spawn_key=(stage,)).generate_state(1, np.uint64)[0] >> 1)
    with spent("fit"):
        fits = [
            train_stacked(masks[part], targets[part], sample_w[part], split[part], linear_start[part], seed=group_seed,
                          show_progress=show_progress, **training)
            for part in (slice(lo, lo + step) for lo in range(0, n_inst, step))
        ]
    if len(fits) == 1:
        return fits[0]
    joined: dict[str, Any] = {}
    for key, value in fits[0].items():
        if isinstance(value, list):  # one array per layer
            joined[key] = [np.concatenate(layer) for layer in zip(*(f[key] for f in fits), strict=True)]
        else:
            joined[key] = np.concatenate([f[key] for f in fits])
    return joined

