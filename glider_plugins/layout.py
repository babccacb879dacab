"""FeatureLayout: the formatted inputs of a batch and how their elements group into features.

Built once at the public boundary (:class:`~glider_plugins.InteractionAttribution`) and read by
every perturbation scheme.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["FeatureLayout"]


@dataclass
class FeatureLayout:
    """Inputs of N instances, their interpretable features and their baselines.

    Attributes
    ----------
    inputs : tuple of numpy.ndarray
        One array per model input, each of shape (N, *shape_k).
    feature_mask : tuple of numpy.ndarray of int64
        One per input, each of shape (N, *shape_k) or (1, *shape_k): the feature id (0..p-1) of
        every element. Elements sharing an id form one interpretable feature.
    n_features : int
        p, the number of interpretable features.
    baselines : tuple of numpy.ndarray or None
        Per input, the value an "off" element takes, of shape (N, *shape_k) or (1, *shape_k) (a
        scalar, a tensor per feature, a missing id ...). ``None`` when ``background`` is used.
    background : tuple of numpy.ndarray or None
        Per input, a background data set of shape (B, *shape_k): an "off" feature takes its value
        from one random background row (one row per perturbed sample).
    input_names : tuple of str or None
        Names when the inputs were given as a dict (the order of ``inputs``).
    feature_names : list of str
        Names of the p features.
    """

    inputs: tuple[np.ndarray, ...]
    feature_mask: tuple[np.ndarray, ...]
    n_features: int
    baselines: tuple[np.ndarray, ...] | None = None
    background: tuple[np.ndarray, ...] | None = None
    input_names: tuple[str, ...] | None = None
    feature_names: list[str] | None = None

    @property
    def n_instances(self) -> int:
        return int(self.inputs[0].shape[0])

    def absent_features(self) -> list[list[int]]:
        """Per instance, the feature ids that cover none of its elements (a per-instance mask with
        fewer features than the batch's ``p``, e.g. an image with fewer superpixels): they cannot
        change its output."""
        p, out = self.n_features, []
        shared = all(mask.shape[0] == 1 for mask in self.feature_mask)
        for i in range(1 if shared else self.n_instances):
            present = np.zeros(p, dtype=bool)
            for mask in self.feature_mask:
                present[np.unique(mask[i if mask.shape[0] > 1 else 0])] = True
            out.append(np.flatnonzero(~present).tolist())
        return out * self.n_instances if shared else out

    def feature_groups(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The instances grouped by the features their own masks cover (:meth:`absent_features`):
        a list of ``(rows, present)``, ``rows`` the instances' positions (int array, ascending) and
        ``present`` their features (int array, ascending), groups in order of their first instance;
        one group of every instance and every feature when no instance lacks one."""
        absent = self.absent_features()
        groups: dict[tuple[int, ...], list[int]] = {}
        for row, missing in enumerate(absent):
            groups.setdefault(tuple(missing), []).append(row)
        return [(np.asarray(rows, dtype=np.int64), np.setdiff1d(np.arange(self.n_features), np.asarray(missing, dtype=np.int64)))
                for missing, rows in groups.items()]

    def on_features(self, rows: np.ndarray, present: np.ndarray) -> FeatureLayout:
        """The instances ``rows`` (:meth:`subset`) with only the features ``present`` (which must
        cover every element of theirs), renumbered ``0..len(present) - 1`` in order: those
        instances' own game, without the features their masks leave empty."""
        part = self.subset(rows)
        renumber = np.full(self.n_features, -1, dtype=np.int64)
        renumber[present] = np.arange(len(present))
        masks = tuple(renumber[fm] for fm in part.feature_mask)
        names = None if self.feature_names is None else [self.feature_names[i] for i in present.tolist()]
        return replace(part, feature_mask=masks, n_features=len(present), feature_names=names)

    def instance_keys(self) -> np.ndarray:
        """A 63-bit digest of each instance's content, shape (N,), uint64.

        Hashes the instance's rows of every input (values and shapes), and nothing else: a
        feature mask or baseline given per instance is not part of the key, since alone (one row)
        it cannot be told from one shared by the batch, and the key must be the same alone and in
        any batch. Equal instances get equal keys, whatever their position in the batch. Numbers
        are hashed at float32 precision, so the same data as float64 for a Python model and as
        float32 for its ONNX export get the same key (and the same random masks).
        """
        per_instance = [*self.inputs]
        keys = np.empty(self.n_instances, dtype=np.uint64)
        for i in range(self.n_instances):
            digest = hashlib.blake2b(digest_size=8)
            for array in per_instance:
                row = np.ascontiguousarray(array[i])
                if row.dtype.kind in "biuf":
                    row = row.astype(np.float32)
                digest.update(f"{row.dtype.str}{row.shape}".encode())
                digest.update(row.tobytes())
            keys[i] = int.from_bytes(digest.digest(), "little") >> 1
        return keys

    def element_masks(self, masks: np.ndarray, instance_ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """Expand feature masks (M, p) to per-element on/off arrays, one (M, *shape_k) per input."""
        out = []
        for fm in self.feature_mask:
            shape = fm.shape[1:]
            if fm.shape[0] == 1:  # one mask for every instance: one gather of the mask columns
                out.append(np.take(masks, fm[0].ravel(), axis=1).reshape((len(masks), *shape)))
                continue
            expanded = np.empty((len(masks), *shape), dtype=masks.dtype)
            for instance in np.unique(instance_ids).tolist():  # each instance's rows through its own mask
                rows = np.flatnonzero(instance_ids == instance)
                expanded[rows] = np.take(masks[rows], fm[instance].ravel(), axis=1).reshape((len(rows), *shape))
            out.append(expanded)
        return tuple(out)

    def off_values(self, instance_ids: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """The values "off" elements take for M rows: baselines, or one background row per sample."""
        m = len(instance_ids)
        if self.background is not None:
            rows = rng.integers(0, self.background[0].shape[0], size=m)
            return tuple(bg[rows] for bg in self.background)
        assert self.baselines is not None
        return tuple(b[instance_ids] if b.shape[0] > 1 else np.broadcast_to(b, (m, *b.shape[1:])) for b in self.baselines)

    def subset(self, rows: np.ndarray) -> FeatureLayout:
        """The instances ``rows`` (int array) of this layout: inputs, and feature masks and baselines
        given per instance, cut to them; shared ones and the background kept. ``n_features`` is
        the largest feature id of those instances + 1 (what formatting them alone gives)."""
        n = self.n_instances

        def cut(array: np.ndarray) -> np.ndarray:
            return array[rows] if array.shape[0] == n and n > 1 else array

        masks = tuple(cut(fm) for fm in self.feature_mask)
        n_features = int(max(int(fm.max(initial=-1)) for fm in masks)) + 1
        names = None if self.feature_names is None else list(self.feature_names[:n_features])
        return replace(self, inputs=tuple(a[rows] for a in self.inputs), feature_mask=masks, n_features=n_features,
                       baselines=None if self.baselines is None else tuple(cut(b) for b in self.baselines), feature_names=names)

    def with_background_row(self, row: int) -> FeatureLayout:
        """This layout with background row ``row`` as every instance's fixed baseline.

        A game averaged over background rows is the average of these fixed-baseline games; the
        exact reference and ArchDetect's paired design query them one row at a time, so that the
        queries of one difference share their background.
        """
        assert self.background is not None
        return replace(self, baselines=tuple(bg[row : row + 1] for bg in self.background), background=None)
