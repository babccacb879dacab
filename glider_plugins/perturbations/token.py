"""``"token"``: an "off" word becomes a mask/unknown token, or is removed from the sequence.

For models that take token ids (an embedding bag, a transformer): with a
:func:`~glider_plugins.features.token_mask` feature mask, every word (all its sub-word pieces)
is switched at once. Padding (``pad_id``) and special tokens (``keep_ids``) are never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..layout import FeatureLayout
from .base import PerturbationScheme
from .binary import sample_lime_masks

__all__ = ["TokenPerturbation", "remove_tokens"]

MODES = ("mask", "remove")


class TokenPerturbation(PerturbationScheme):
    """Switch words between their tokens (on) and a mask token or nothing (off).

    Parameters
    ----------
    mask_id : int, optional
        ``mode="mask"``: the id an off word's tokens take (e.g. [MASK] or [UNK]). Default: the
        ``baselines`` given to ``attribute`` (Captum's meaning; zeros unless given).
    mode : {"mask", "remove"}, default "mask"
        ``"remove"``: off words are deleted, the tokens after them move left and the sequence is
        filled up with ``pad_id`` at the end, so the length stays L and padding stays trailing.
    pad_id : int, default 0
        The padding id: padding positions never change ("remove" refills the end with it).
    keep_ids : sequence of int, default ()
        Token ids never changed or removed, e.g. [CLS] and [SEP].
    input_index : int, default 0
        Which model input holds the token ids; other inputs are perturbed as by ``"binary"``.

    Examples
    --------
    >>> tm = token_mask(ids, tokens=tokens, pad_id=0)                          # doctest: +SKIP
    >>> ia = InteractionAttribution(clf, perturbation=TokenPerturbation(mode="remove"))
    >>> ia.attribute_interactions(ids, feature_mask=tm.feature_mask)
    >>> InteractionAttribution(clf, perturbation="token").attribute_interactions(ids, baselines=unk_id, feature_mask=tm.feature_mask)
    """

    name = "token"
    deterministic = True

    def __init__(self, mask_id: int | None = None, *, mode: str = "mask", pad_id: int = 0,
                 keep_ids: Sequence[int] = (), input_index: int = 0) -> None:
        if mode not in MODES:
            raise InputError(f"mode: expected one of {MODES}, got {mode!r}")
        for name, value in (("mask_id", mask_id), ("pad_id", pad_id), ("input_index", input_index)):
            if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)):
                raise InputError(f"{name}: expected an integer token id, got {value!r}")
        if mode == "remove" and mask_id is not None:
            raise InputError("mask_id: only used with mode='mask'; mode='remove' deletes off words")
        self.mask_id, self.mode, self.pad_id = mask_id, mode, int(pad_id)
        self.keep_ids = tuple(int(k) for k in keep_ids)
        self.input_index = int(input_index)

    def sample_masks(self, n_instances: int, n_features: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        return sample_lime_masks(n_instances, n_features, n_samples, rng)

    def perturb(self, layout: FeatureLayout, masks: np.ndarray, instance_ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        if not -len(layout.inputs) <= self.input_index < len(layout.inputs):
            raise InputError(f"input_index: {self.input_index} is not one of the model's {len(layout.inputs)} input(s)")
        index = self.input_index % len(layout.inputs)
        tokens = layout.inputs[index]
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise InputError(f"inputs: the 'token' scheme needs integer token ids of shape (N, L) as input {index}, got {tokens.dtype} {tokens.shape}")
        on = layout.element_masks(masks, instance_ids)
        off = layout.off_values(instance_ids, rng)
        out = [np.where(keep, x[instance_ids], alt) for keep, x, alt in zip(on, layout.inputs, off)]
        rows = tokens[instance_ids]
        fixed = self._fixed(rows)
        if self.mode == "remove":
            out[index] = remove_tokens(rows, on[index] | fixed, self.pad_id, np.isin(rows, self.keep_ids))
        else:
            replacement = off[index] if self.mask_id is None else np.asarray(self.mask_id, dtype=rows.dtype)
            out[index] = np.where(on[index] | fixed, rows, replacement)
        return tuple(out)

    def _fixed(self, rows: np.ndarray) -> np.ndarray:
        """(M, L) bool: padding and kept special tokens."""
        return (rows == self.pad_id) | np.isin(rows, self.keep_ids)


def remove_tokens(rows: np.ndarray, keep: np.ndarray, pad_id: int, always: np.ndarray | None = None) -> np.ndarray:
    """Delete the tokens not kept, shift the rest left, pad at the end (vectorised over rows).

    Parameters
    ----------
    rows : numpy.ndarray of int, shape (M, L)
    keep : numpy.ndarray of bool, shape (M, L)
        Tokens to keep; padding (``rows == pad_id``) is dropped and re-added at the end.
    pad_id : int
    always : numpy.ndarray of bool, shape (M, L), optional
        Tokens kept whatever ``keep`` says (special tokens).

    Returns
    -------
    numpy.ndarray, shape (M, L), ``rows``' dtype
        Row by row: the kept tokens in their order, then ``pad_id``.
    """
    kept = keep & (rows != pad_id)
    if always is not None:
        kept |= always
    order = np.argsort(~kept, axis=1, kind="stable")
    out = np.take_along_axis(rows, order, axis=1)
    out[np.arange(rows.shape[1]) >= kept.sum(axis=1, keepdims=True)] = pad_id
    return out
