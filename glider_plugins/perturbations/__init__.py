"""Perturbation schemes: which features to switch off, and what "off" means."""

from .base import PerturbationScheme, lime_kernel_weights
from .binary import BinaryPerturbation, sample_lime_masks
from .segment_mean import SegmentMeanPerturbation
from .token import TokenPerturbation

__all__ = [
    "BinaryPerturbation",
    "PerturbationScheme",
    "SegmentMeanPerturbation",
    "TokenPerturbation",
    "lime_kernel_weights",
    "sample_lime_masks",
]
