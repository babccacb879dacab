"""Distributed GLIDER: a Dask LocalCluster of worker processes and a ProcessPoolExecutor give the
local run's result for the same seed, on an ONNX model (the planted black box exported)."""

from __future__ import annotations

import io
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import torch

from glider_plugins import Glider
from glider_plugins.errors import InputTypeError
from glider_plugins.glider.models import ModelFactory, ModelSpec, portable_spec
from tests.groundtruth.planted import PLANTED, planted_instances, recovery

pytest.importorskip("onnxruntime")
RUN = dict(top_k=3, baselines=0.0, seed=3, chunk_size=15, show_progress=False)
#: Worker processes are spawned: forking a process that already runs onnxruntime/torch/dask threads
#: can deadlock the child.
SPAWN = multiprocessing.get_context("spawn")


class PlantedTorch(torch.nn.Module):
    """``planted_function`` in torch ops, so it exports to ONNX."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2.0 * x[:, 0] * x[:, 1] + 1.5 * x[:, 2] * x[:, 3] * x[:, 4] + 2.0 * x[:, 5] * x[:, 6] + 1.5 * x[:, 7] * x[:, 8] * x[:, 9] + x[:, 10] - 0.5 * x[:, 11]


def planted_onnx() -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(PlantedTorch(), (torch.ones(2, 12),), buffer, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False)
    return buffer.getvalue()


def build_planted() -> PlantedTorch:
    return PlantedTorch()


@pytest.fixture(scope="module")
def model() -> bytes:
    return planted_onnx()


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return planted_instances(60, seed=1).astype(np.float32)


@pytest.fixture(scope="module")
def local(model, data):
    return Glider(model, detector="archdetect").detect(data, **RUN)


def test_the_local_run_finds_the_planted_groups(local):
    assert local.metadata["executor"] == "local" and local.n_instances == 60
    recall, false_share = recovery([s for s, _ in local.top(len(PLANTED))])
    assert recall == 1.0 and false_share == 0.0


def test_a_dask_local_cluster_of_two_processes_gives_the_local_result(model, data, local):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        found = Glider(model, detector="archdetect").detect(data, executor=client, **RUN)
        pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert found == local and found.metadata["detect_seed"] == local.metadata["detect_seed"]
    assert found.metadata["executor"] == "dask" and len(pids) == 2
    assert found.metadata["n_queries"] == local.metadata["n_queries"]


def test_a_process_pool_gives_the_local_result(model, data, local):
    with ProcessPoolExecutor(max_workers=2, mp_context=SPAWN) as pool:
        found = Glider(model, detector="archdetect").detect(data, executor=pool, max_in_flight=3, **RUN)
    assert found == local and found.metadata["executor"] == "ProcessPoolExecutor"


def test_nid_on_a_process_pool_equals_local_and_a_model_factory_is_rebuilt_on_workers(data):
    run = dict(RUN, n_samples=150, hidden_units=(16, 8), max_epochs=10, chunk_size=5)
    glider = Glider(ModelFactory(build_planted), detector="nid")
    expected = glider.detect(data[:10], **run)
    with ProcessPoolExecutor(max_workers=2, mp_context=SPAWN, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        assert glider.detect(data[:10], executor=pool, **run) == expected
        # every chunk uses the run's seed: other chunks on the workers, the same counts and strengths
        other = glider.detect(data[:10], executor=pool, **dict(run, chunk_size=3))
        assert other.counts == expected.counts and other.mean_strength == expected.mean_strength
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert glider.detect(data[:10], executor=pool, **run) == expected


def test_portable_specs_and_what_cannot_be_sent(model, tmp_path):
    path = tmp_path / "planted.onnx"
    path.write_bytes(model)
    spec = portable_spec(ModelSpec(str(path)))
    assert spec.model == model and spec.token == portable_spec(ModelSpec(model)).token
    scripted = portable_spec(ModelSpec(torch.jit.script(PlantedTorch())))
    x = torch.ones(3, 12)
    assert torch.equal(scripted.attribution().adapter.model(x), PlantedTorch()(x))
    import onnxruntime as ort

    with pytest.raises(InputTypeError, match="model: an onnxruntime.InferenceSession cannot be sent"):
        portable_spec(ModelSpec(ort.InferenceSession(model)))
    with pytest.raises(InputTypeError, match="model: cannot be sent .* does not pickle"):
        portable_spec(ModelSpec(lambda x: x.sum(axis=1)))
    with pytest.raises(InputTypeError, match="executor: expected a concurrent.futures.Executor"):
        Glider(model, detector="archdetect").detect(np.ones((4, 12), np.float32), executor="dask")
