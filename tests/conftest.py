"""Shared fixtures: real models exported once per test session."""

from __future__ import annotations

import os
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest
import torch

from glider_plugins._threads import torch_threads
from tests import models


@pytest.fixture(scope="session")
def ctr(tmp_path_factory):
    """The CTR model natively in PyTorch and Keras, and exported to ONNX (from both) and SavedModel."""
    d = tmp_path_factory.mktemp("ctr")
    torch_model = models.make_ctr_model()
    cat, dense = models.ctr_batch(2)
    torch_onnx = models.export_torch_onnx(torch_model, (torch.as_tensor(cat), torch.as_tensor(dense)), ["cat", "dense_values"], d / "torch_ctr.onnx")
    keras_model = models.keras_ctr_model(torch_model)
    keras_model([cat, dense])  # build, so Keras can export it
    keras_onnx, saved = models.export_keras(keras_model, d / "keras_ctr.onnx", d / "keras_ctr_savedmodel")
    return SimpleNamespace(torch=torch_model, keras=keras_model, torch_onnx=torch_onnx, keras_onnx=keras_onnx, saved_model=saved)


@pytest.fixture(scope="session")
def cnn(tmp_path_factory):
    d = tmp_path_factory.mktemp("cnn")
    torch_model = models.make_image_cnn()
    x = models.image_batch(2)
    torch_onnx = models.export_torch_onnx(torch_model, (torch.as_tensor(x),), ["image"], d / "torch_cnn.onnx")
    keras_model = models.keras_image_cnn(torch_model)
    keras_model(x)
    keras_onnx, saved = models.export_keras(keras_model, d / "keras_cnn.onnx", d / "keras_cnn_savedmodel")
    return SimpleNamespace(torch=torch_model, keras=keras_model, torch_onnx=torch_onnx, keras_onnx=keras_onnx, saved_model=saved)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small (batched) networks on a busy 2-core machine: two OpenMP threads spin against other
    processes (measured 10-20x slower, e.g. 14 s instead of 0.2 s for a small NID fit)."""
    with torch_threads(1):
        yield
