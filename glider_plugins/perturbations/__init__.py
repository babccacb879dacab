"""Perturbation schemes: which features to switch off, and what "off" means."""

from .base import PerturbationScheme, lime_kernel_weights
from .binary import BinaryPerturbation, sample_lime_masks

__all__ = ["BinaryPerturbation", "PerturbationScheme", "lime_kernel_weights", "sample_lime_masks"]
