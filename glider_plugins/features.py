"""Captum-style feature masks for images (superpixels) and text (words made of sub-word tokens).

Both build the ``feature_mask`` argument of :meth:`InteractionAttribution.attribute_interactions`: integer
feature ids 0..p-1, broadcastable to the inputs, so that a detector sees superpixels or words
instead of pixels or tokens::

    mask = superpixel_mask(images, method="slic", n_segments=40)       # (N, 1, H, W) for NCHW
    res = InteractionAttribution(cnn, perturbation="segment_mean").attribute_interactions(images, feature_mask=mask)

    tm = token_mask(ids, tokens=tokens, pad_id=0)                       # words, not word pieces
    res = InteractionAttribution(clf, perturbation="token").attribute_interactions(ids, feature_mask=tm.feature_mask)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError, InputTypeError

__all__ = ["TokenMask", "merge_regions", "superpixel_mask", "token_mask"]

#: scikit-image's quickshift settings that LIME (and MADEX after it) use for images.
QUICKSHIFT_DEFAULTS = {"kernel_size": 4, "max_dist": 200, "ratio": 0.2}
#: Token strings that are never words (BERT, RoBERTa/GPT-2, T5/SentencePiece conventions).
SPECIAL_TOKENS = frozenset({"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>", "<|endoftext|>"})


# ------------------------------------------------------------------------------------ images
def superpixel_mask(
    image: Any,
    method: str = "quickshift",
    n_segments: int | None = None,
    *,
    channels_last: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Superpixels of one image or a batch, as a Captum-style ``feature_mask``.

    Parameters
    ----------
    image : numpy.ndarray or torch.Tensor
        (C, H, W), (H, W, C), (H, W) grayscale, or a batch (N, C, H, W) / (N, H, W, C); C in 1..4
        (grayscale is segmented as gray RGB, a 4th alpha channel is ignored). uint8 or float; floats
        outside [0, 1] (normalised inputs) are min-max scaled for segmenting only.
    method : {"quickshift", "slic"}
        scikit-image's segmentation. quickshift starts from LIME's settings
        (``kernel_size=4, max_dist=200, ratio=0.2``).
    n_segments : int, optional
        slic: the number of segments asked for (default 50). quickshift: an upper bound; the
        smallest regions are merged into their most similar neighbour until at most this many
        remain (default: quickshift's own result).
    channels_last : bool, optional
        Where the channel axis of a 3-D image (4-D batch) is. Default: torch tensors are
        channels-first; for arrays the axis of size 1, 3 or 4 (ambiguous shapes raise).
    **kwargs
        Passed to :func:`skimage.segmentation.quickshift` or :func:`~skimage.segmentation.slic`.

    Returns
    -------
    numpy.ndarray or torch.Tensor of int64
        Ids 0..p-1, shaped to broadcast against the input: (1, H, W) for (C, H, W), (H, W, 1) for
        (H, W, C), (H, W) for (H, W); (N, 1, H, W) or (N, H, W, 1) for a batch, each image numbered
        on its own (p is then the largest count; features an image lacks cover none of its pixels).
        A torch tensor (on the input's device) for a torch input.
    """
    if method not in ("quickshift", "slic"):
        raise InputError(f"method: expected 'quickshift' or 'slic', got {method!r}")
    if n_segments is not None and (not isinstance(n_segments, (int, np.integer)) or n_segments < 2):
        raise InputError(f"n_segments: expected an integer >= 2, got {n_segments!r}")
    reserved = sorted({"channel_axis", "start_label", "multichannel"} & kwargs.keys())
    if reserved:
        raise InputError(f"{reserved[0]}: set by superpixel_mask itself (use channels_last to say where channels are)")
    array, is_torch = _to_numpy(image, "image")
    images, batched, last = _as_nhwc(array, channels_last if channels_last is not None else (False if is_torch else None))
    masks = np.stack([_segment(img, method, n_segments, kwargs) for img in images])  # (N, H, W)
    single = [k for k, m in enumerate(masks) if m.max() < 1]
    if single:
        warnings.warn(f"superpixel_mask: {method} found one segment only in image(s) {single[:10]} of shape "
                      f"{images.shape[1:3]}: no interactions can be found there; "
                      + ("pass method='slic' with n_segments, or a smaller kernel_size" if method == "quickshift"
                         else "pass a larger n_segments or a smaller compactness"), UserWarning, stacklevel=2)
    mask = masks[:, None] if not last else masks[..., None]
    if not batched:
        mask = masks[0] if array.ndim == 2 else mask[0]
    if is_torch:
        import torch

        return torch.as_tensor(mask, device=image.device)
    return mask


def _as_nhwc(array: np.ndarray, channels_last: bool | None) -> tuple[np.ndarray, bool, bool]:
    """(N, H, W, C) images, whether a batch was given, and whether channels were last."""
    if array.ndim == 2:
        return array[None, :, :, None], False, True
    if array.ndim not in (3, 4):
        raise InputError(f"image: expected (C, H, W), (H, W, C), (H, W) or a batch of them, got shape {array.shape}")
    batched = array.ndim == 4
    shape = array.shape[1:] if batched else array.shape
    if channels_last is None:
        first, last = shape[0] in (1, 3, 4), shape[-1] in (1, 3, 4)
        if first == last:
            raise InputError(f"image: cannot tell the channel axis of shape {array.shape}; pass channels_last=True or False")
        channels_last = last
    channels = shape[-1] if channels_last else shape[0]
    if channels not in (1, 2, 3, 4):
        raise InputError(f"image: expected 1 to 4 channels, got {channels} (shape {array.shape}, channels_last={channels_last})")
    images = array if batched else array[None]
    return (images if channels_last else np.moveaxis(images, 1, -1)), batched, channels_last


def _segment(image: np.ndarray, method: str, n_segments: int | None, options: dict[str, Any]) -> np.ndarray:
    """Consecutive ids 0..p-1 of one (H, W, C) image."""
    from skimage import segmentation

    rgb = _unit_rgb(image)
    if method == "slic":
        settings = {"n_segments": n_segments or 50, "start_label": 0, "channel_axis": -1, **options}
        labels = segmentation.slic(rgb, **settings)
    else:
        labels = segmentation.quickshift(rgb, **{**QUICKSHIFT_DEFAULTS, **options})
        if n_segments is not None:
            labels = merge_regions(labels, rgb, n_segments)
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype(np.int64)


def _unit_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) floats in [0, 1] for scikit-image: gray repeated, alpha dropped, range scaled."""
    arr = image.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError("image: contains NaN or infinite values")
    if np.issubdtype(image.dtype, np.integer) and arr.min() >= 0 and arr.max() <= 255:
        arr = arr / 255.0
    elif arr.min() < 0 or arr.max() > 1:
        arr = (arr - arr.min()) / max(float(np.ptp(arr)), 1e-12)
    if arr.shape[-1] in (1, 2):
        arr = np.repeat(arr[..., :1], 3, axis=-1)
    return arr[..., :3]


def merge_regions(labels: np.ndarray, image: np.ndarray, n_max: int) -> np.ndarray:
    """Merge the smallest region into its adjacent region of nearest mean colour, until ``n_max`` remain.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (H, W)
    image : numpy.ndarray, shape (H, W, C)
    n_max : int

    Returns
    -------
    numpy.ndarray of int64, shape (H, W), ids 0..min(n_max, count)-1
    """
    labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape)
    k = int(labels.max()) + 1
    flat, pixels = labels.ravel(), image.reshape(labels.size, -1)
    sizes = np.bincount(flat, minlength=k).astype(np.float64)
    sums = np.stack([np.bincount(flat, weights=pixels[:, c], minlength=k) for c in range(pixels.shape[1])], axis=1)
    pairs = np.concatenate([np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
                            np.stack([labels[:-1].ravel(), labels[1:].ravel()], 1)])
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1), axis=0)
    neighbours: list[set[int]] = [set() for _ in range(k)]
    for a, b in pairs:
        neighbours[a].add(int(b))
        neighbours[b].add(int(a))
    parent, alive = np.arange(k), set(range(k))
    while len(alive) > n_max:
        small = min((r for r in alive if neighbours[r]), key=lambda r: sizes[r], default=None)
        if small is None:
            break
        colour = sums[small] / sizes[small]
        into = min(neighbours[small], key=lambda r: float(np.sum((sums[r] / sizes[r] - colour) ** 2)))
        sizes[into] += sizes[small]
        sums[into] += sums[small]
        for r in neighbours[small] - {into}:
            neighbours[r].discard(small)
            neighbours[r].add(into)
            neighbours[into].add(r)
        neighbours[into].discard(small)
        parent[small] = into
        alive.discard(small)
    while not np.array_equal(parent, parent[parent]):
        parent = parent[parent]
    return np.unique(parent[labels], return_inverse=True)[1].reshape(labels.shape).astype(np.int64)


# ------------------------------------------------------------------------------------ text
@dataclass(frozen=True)
class TokenMask:
    """Words of tokenised text as interpretable features.

    Attributes
    ----------
    feature_mask : numpy.ndarray of int64, shape (N, L)
        Pass as ``feature_mask``. Row i's words are features 0..n_i-1 (all sub-word pieces of a
        word share its id). Positions that are no word (padding, special tokens) get the id n_i
        right after the row's words: the ``"token"`` scheme never changes them (it keeps tokens
        equal to its ``pad_id`` / ``keep_ids``), so that feature has no effect. Ids run 0..p-1 with
        p = max over rows of n_i (+1 when that row has padding or special tokens).
    is_word : numpy.ndarray of bool, shape (N, L)
        False for padding and special tokens.
    n_words : numpy.ndarray of int64, shape (N,)
    words : list of list of str, or None
        Row i's n_i words (pieces joined, continuation markers stripped) when tokens were given.
    """

    feature_mask: np.ndarray
    is_word: np.ndarray
    n_words: np.ndarray
    words: list[list[str]] | None = None

    @property
    def n_features(self) -> int:
        """p, the number of feature ids in :attr:`feature_mask`."""
        return int(self.feature_mask.max()) + 1

    def row_words(self, i: int) -> list[str]:
        """p names for row i's features (for pictures): its words, then "" for the ids that are
        not its words."""
        if self.words is None:
            raise InputError("token_mask was built without tokens, so words are unknown; pass tokens=...")
        return list(self.words[i]) + [""] * (self.n_features - len(self.words[i]))

    def local(self, result: Any, i: int) -> Any:
        """``result[i]`` restricted to row i's own words (features 0..n_i-1, named by the words when
        known): the batch's other ids are padding or other rows' words, which never change row i.

        Parameters
        ----------
        result : AttributionResult
            What ``attribute`` returned for these rows.
        i : int
            The row.

        Returns
        -------
        LocalInteractions
            p = n_i; interactions touching another id are dropped. Ready for the text pictures.
        """
        from .results import LocalInteractions

        item, n = result[i], int(self.n_words[i])
        kept = [(f, s) for f, s in item.interactions if max(f) < n]
        names = list(self.words[i]) if self.words is not None else None
        signed = None if item.signed_values is None else {f: v for f, v in item.signed_values.items() if max(f) < n}
        return LocalInteractions(kept, item.main_effects[:n], item.pairwise()[:n, :n], feature_names=names,
                                 metadata=dict(item.metadata), signed_values=signed, baseline_value=item.baseline_value)


def token_mask(
    input_ids: Any,
    *,
    tokens: Sequence[Sequence[str]] | None = None,
    word_ids: Sequence[Sequence[int | None]] | None = None,
    offsets: Any = None,
    attention_mask: Any = None,
    pad_id: int | None = 0,
    special_ids: Sequence[int] = (),
    special_tokens: Sequence[str] = SPECIAL_TOKENS,
    continuation_prefix: str | None = "##",
    word_prefix: str | None = None,
) -> TokenMask:
    """Group the tokens of each row into words: one interpretable feature per word.

    Word boundaries come from the first of these that is given: ``word_ids`` (e.g. a Hugging Face
    fast tokenizer's ``encoding.word_ids(i)``; None = no word), ``offsets`` ((N, L, 2) character
    spans: a token that starts where the previous one ends continues its word; empty spans are no
    word), ``tokens`` (a piece starting with ``continuation_prefix`` such as "##" continues the
    previous word; with ``word_prefix`` such as "▁" or "Ġ", a piece without it does), else every
    token is a word.

    Parameters
    ----------
    input_ids : array or tensor of int, shape (N, L), or a tokenizer's output
        A mapping with "input_ids" (and optionally "attention_mask", "offset_mapping", and a
        ``word_ids(i)`` method) is read for the arguments not given.
    tokens : list of N lists of L str, optional
        The token strings; also give the words their text (:attr:`TokenMask.words`).
    word_ids, offsets : optional
        Word boundaries, see above.
    attention_mask : array of 0/1, shape (N, L), optional
        0 marks padding.
    pad_id : int or None, default 0
        Tokens with this id are padding.
    special_ids, special_tokens :
        Token ids / strings that are no word (e.g. [CLS], [SEP]); pass the ids to the ``"token"``
        scheme's ``keep_ids`` too.
    continuation_prefix, word_prefix : str or None
        Sub-word conventions for ``tokens``: WordPiece "##" marks continuations; SentencePiece "▁"
        and byte-level BPE "Ġ" mark word starts.

    Returns
    -------
    TokenMask
        ``.feature_mask`` (N, L) ids 0..p-1, ``.words``, ``.n_words``, ``.is_word``.
    """
    if isinstance(input_ids, Mapping):
        encoding = input_ids
        input_ids = encoding["input_ids"]
        attention_mask = encoding.get("attention_mask") if attention_mask is None else attention_mask
        offsets = encoding.get("offset_mapping") if offsets is None else offsets
        if word_ids is None and callable(getattr(encoding, "word_ids", None)):
            word_ids = [encoding.word_ids(i) for i in range(len(input_ids))]
    ids, _ = _to_numpy(input_ids, "input_ids")
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise InputError(f"input_ids: expected integer token ids of shape (N, L), got {ids.dtype} {ids.shape}")
    tokens = _check_rows(tokens, ids.shape, "tokens")
    is_word = ~np.isin(ids, np.asarray(list(special_ids), dtype=ids.dtype))
    if pad_id is not None:
        is_word &= ids != pad_id
    if attention_mask is not None:
        is_word &= _to_numpy(attention_mask, "attention_mask")[0].reshape(ids.shape).astype(bool)
    if tokens is not None:
        is_word &= ~np.isin(np.asarray(tokens, dtype=object), list(special_tokens))
    starts, is_word = _word_starts(ids.shape, word_ids, offsets, tokens, continuation_prefix, word_prefix, is_word)
    word_index = np.cumsum(starts & is_word, axis=1) - 1  # (N, L): the word each token belongs to
    n_words = (starts & is_word).sum(axis=1)
    if np.any(n_words == 0):
        raise InputError(f"input_ids: row {int(np.argmax(n_words == 0))} has no words (only padding or special tokens)")
    mask = np.where(is_word, np.maximum(word_index, 0), n_words[:, None]).astype(np.int64)
    words = _join_words(tokens, mask, is_word, n_words, continuation_prefix, word_prefix) if tokens else None
    return TokenMask(mask, is_word, n_words.astype(np.int64), words)


def _word_starts(shape: tuple[int, int], word_ids: Any, offsets: Any, tokens: list[list[str]] | None,
                 continuation: str | None, word_prefix: str | None, is_word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, L) bool: whether the token opens a new word, and ``is_word`` narrowed by the boundaries."""
    starts, is_word = np.ones(shape, dtype=bool), is_word.copy()
    if word_ids is not None:
        rows = _check_rows(word_ids, shape, "word_ids")
        wid = np.array([[-1 if w is None else int(w) for w in row] for row in rows], dtype=np.int64)
        is_word &= wid >= 0
        starts[:, 1:] = wid[:, 1:] != wid[:, :-1]
    elif offsets is not None:
        spans = _to_numpy(offsets, "offsets")[0]
        if spans.shape != (*shape, 2):
            raise InputError(f"offsets: expected character spans of shape {(*shape, 2)}, got {spans.shape}")
        is_word &= spans[..., 1] > spans[..., 0]
        starts[:, 1:] = (spans[:, 1:, 0] != spans[:, :-1, 1]) | ~is_word[:, :-1]
    elif tokens is not None:
        pieces = np.asarray(tokens, dtype=object)
        if word_prefix:
            starts = np.vectorize(lambda t: t.startswith(word_prefix), otypes=[bool])(pieces)
        elif continuation:
            starts = ~np.vectorize(lambda t: t.startswith(continuation), otypes=[bool])(pieces)
        starts[:, 1:] |= ~is_word[:, :-1]
    starts[:, 0] = True
    return starts, is_word


def _join_words(tokens: list[list[str]], mask: np.ndarray, is_word: np.ndarray, n_words: np.ndarray,
                continuation: str | None, word_prefix: str | None) -> list[list[str]]:
    words: list[list[str]] = []
    for row, ids, keep, n in zip(tokens, mask, is_word, n_words):
        pieces: list[list[str]] = [[] for _ in range(int(n))]
        for token, wid, ok in zip(row, ids, keep):
            if ok:
                for marker in (continuation, word_prefix):
                    if marker and token.startswith(marker):
                        token = token[len(marker):]
                pieces[wid].append(token)
        words.append(["".join(p) for p in pieces])
    return words


def _check_rows(rows: Any, shape: tuple[int, int], name: str) -> list[list[Any]] | None:
    if rows is None:
        return None
    rows = [list(r) for r in rows]
    if len(rows) != shape[0] or any(len(r) != shape[1] for r in rows):
        raise InputError(f"{name}: expected {shape[0]} rows of {shape[1]} entries (one per token), like input_ids")
    return rows


def _to_numpy(value: Any, name: str) -> tuple[np.ndarray, bool]:
    """A numpy view of an array or tensor, and whether it was a torch tensor."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy(), True
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{name}: expected an array or tensor, got {type(value).__name__}") from exc
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise InputTypeError(f"{name}: expected numbers, got dtype {array.dtype}")
    return array, False
