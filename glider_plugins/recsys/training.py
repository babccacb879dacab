"""Training and evaluation of the CTR models: Adam, early stopping on validation log loss.

Determinism: :func:`fit` draws everything (batch order, dropout) from ``seed`` inside
``torch.random.fork_rng``, so the same model, data and seed give the same weights, and the
caller's global torch random state is left as it was. Build the model with
``make_model(..., seed=...)`` for reproducible initial weights too. Results are bit-identical for
the same torch thread count (``num_threads``); another count changes float summation order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .._threads import torch_threads
from ..errors import InputError
from .base import CTRDataset, CTRModel, check_compatible

__all__ = ["TrainingHistory", "evaluate", "fit", "log_loss", "predict", "roc_auc"]


@dataclass
class TrainingHistory:
    """What :func:`fit` did: per-epoch mean training loss and validation log loss, the best epoch
    (0-based; its weights are the ones the model holds now) and whether training stopped early."""

    train_loss: list[float] = field(default_factory=list)
    valid_logloss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    seconds: float = 0.0


def _check_labelled(data: CTRDataset, arg: str) -> np.ndarray:
    if not isinstance(data, CTRDataset):
        raise InputError(f"{arg}: expected a CTRDataset, got {type(data).__name__}")
    if len(data) == 0 or data.labels is None:
        raise InputError(f"{arg}: expected a non-empty CTRDataset with labels")
    return data.labels


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise InputError(f"{name}: expected a positive value, got {value}")


def fit(
    model: CTRModel,
    train: CTRDataset,
    valid: CTRDataset | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 512,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    patience: int = 2,
    seed: int = 0,
    show_progress: bool = False,
    num_threads: int | None = None,
) -> TrainingHistory:
    """Train ``model`` in place with Adam on binary cross-entropy.

    Parameters
    ----------
    model : CTRModel
        Any model of :data:`glider_plugins.recsys.MODELS`.
    train, valid : CTRDataset
        Labelled data with the model's fields. With ``valid``, training stops after ``patience``
        epochs without a lower validation log loss and the best epoch's weights are restored.
    epochs, batch_size, lr, weight_decay, patience : int or float
        Most epochs, rows per step, Adam's learning rate and L2 weight decay, and the early
        stopping patience (epochs).
    seed : int, default 0
        Seeds the batch order and dropout (see the module docstring).
    show_progress : bool, default False
        A tqdm bar over the epochs, with the losses.
    num_threads : int, optional
        torch intra-op threads while training (restored after). These models are small: 1 thread
        is as fast on an idle machine and many times faster on a busy one.

    Returns
    -------
    TrainingHistory
    """
    import time

    start = time.perf_counter()
    _check_labelled(train, "train")
    check_compatible(model, train, "train")
    if valid is not None:
        _check_labelled(valid, "valid")
        check_compatible(model, valid, "valid")
    _check_positive(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience)
    history = TrainingHistory()
    with torch_threads(num_threads or None), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        _train_epochs(model, train, valid, history, generator, epochs, batch_size, lr, weight_decay, patience, show_progress)
    history.seconds = time.perf_counter() - start
    return history


def _train_epochs(
    model: CTRModel, train: CTRDataset, valid: CTRDataset | None, history: TrainingHistory, generator: torch.Generator,
    epochs: int, batch_size: int, lr: float, weight_decay: float, patience: int, show_progress: bool,
) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.BCEWithLogitsLoss()
    cat, dense = train.tensors()
    labels = torch.from_numpy(train.labels).unsqueeze(1)
    best_loss, best_state = float("inf"), None
    bar = _progress(range(int(epochs)), show_progress)
    for epoch in bar:
        model.train()
        order, total = torch.randperm(len(train), generator=generator), 0.0
        for index in order.split(int(batch_size)):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(cat[index], dense[index]), labels[index])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        history.train_loss.append(total / len(train))
        if valid is None:
            history.best_epoch = epoch
            continue
        history.valid_logloss.append(log_loss(valid.labels, predict(model, valid, batch_size=max(int(batch_size), 4096))))
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(train=history.train_loss[-1], valid=history.valid_logloss[-1])
        if history.valid_logloss[-1] < best_loss:
            best_loss, best_state, history.best_epoch = history.valid_logloss[-1], copy.deepcopy(model.state_dict()), epoch
        elif epoch - history.best_epoch >= patience:
            history.stopped_early = True
            break
    if hasattr(bar, "close"):
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()


def _progress(iterable: Iterable[int], show: bool) -> Iterable[int]:
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc="epochs", unit="epoch")


@torch.no_grad()
def predict(model: CTRModel, data: CTRDataset, *, batch_size: int = 8192) -> np.ndarray:
    """Click probabilities of ``data``'s rows, float64 array of shape (N,) (eval mode)."""
    if not isinstance(data, CTRDataset):
        raise InputError(f"data: expected a CTRDataset, got {type(data).__name__}")
    check_compatible(model, data, "data")
    was_training = model.training
    model.eval()
    cat, dense = data.tensors()
    logits = [model(c, d) for c, d in zip(cat.split(batch_size), dense.split(batch_size))]
    model.train(was_training)
    out = torch.cat(logits).reshape(-1) if logits else torch.zeros(0)
    return torch.sigmoid(out.double()).numpy()


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney statistic, ties counted half); labels in {0, 1}."""
    labels, scores = np.asarray(labels).reshape(-1) > 0.5, np.asarray(scores, dtype=np.float64).reshape(-1)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        raise InputError("labels: ROC AUC needs both clicks and non-clicks")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mid_ranks = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based average rank of each distinct score
    rank_sum = mid_ranks[inverse][labels].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def log_loss(labels: np.ndarray, probabilities: np.ndarray, eps: float = 1e-7) -> float:
    """Mean binary cross-entropy of probabilities (clipped to [eps, 1 - eps])."""
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    p = np.clip(np.asarray(probabilities, dtype=np.float64).reshape(-1), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def evaluate(model: CTRModel, data: CTRDataset, *, batch_size: int = 8192) -> dict[str, float]:
    """``{"auc": ROC AUC, "logloss": mean log loss}`` of ``model`` on labelled ``data``."""
    labels = _check_labelled(data, "data")
    p = predict(model, data, batch_size=batch_size)
    return {"auc": roc_auc(labels, p), "logloss": log_loss(labels, p)}
