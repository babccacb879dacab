"""Results that cannot change silently (issue 15): one test per reported failure, with its settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from glider_plugins import Glider, InteractionAttribution
from glider_plugins._threads import torch_threads
from glider_plugins.errors import InputError, InputTypeError
from glider_plugins.explain.querying import ROW_ALIGN
from tests.test_attribution import instances, planted


# ---------------------------------------------------------------- 1. adapter batch sizes off the alignment
def _mlp(p: int = 39, width: int = 400, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    sizes = [p, width, width, width]
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 1)).eval()


def test_an_adapter_batch_size_off_the_alignment_keeps_rows_in_place():
    """The adapter cuts calls at ``batch_size``: 100 rows is not a multiple of ROW_ALIGN, so a
    call of 16384 rows cut there would move an instance's rows off their place modulo 16. A model
    whose scores move in the last bits with a row's place (as grouped compute kernels do) shows it."""

    def place_dependent(x):
        return planted(x) + 1e-7 * (np.arange(len(x)) % ROW_ALIGN)

    x = instances(n=3, seed=8)
    ia = InteractionAttribution(place_dependent, batch_size=100)
    run = dict(n_samples=203, seed=0, hidden_units=(8, 4), max_epochs=5)
    batch = ia.attribute_interactions(x, **run)
    for k in range(3):
        alone = ia.attribute_interactions(x[k : k + 1], **run)
        np.testing.assert_array_equal(alone[0].pairwise(), batch[k].pairwise())
        np.testing.assert_array_equal(alone[0].main_effects, batch[k].main_effects)


@pytest.mark.parametrize("detector", ["archdetect", "nid"])
def test_torch_mlp_with_batch_size_100_same_alone_and_in_a_batch(detector):
    """Issue 15's case: a 39-input 400-400-400 torch MLP, ``batch_size=100``, torch with 2 threads:
    instance 0 alone and in a batch of 20, number for number."""
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(20, 39)).astype(np.float32)
    with torch_threads(2):
        ia = InteractionAttribution(model, detector=detector, batch_size=100)
        run = dict(seed=0, n_samples=1000) if detector == "nid" else dict(seed=0, n_samples=39**2 + 39 + 2)  # ArchDetect's design
        alone = ia.attribute_interactions(x[:1], **run)[0]
        batch = ia.attribute_interactions(x, **run)[0]
    np.testing.assert_array_equal(alone.pairwise(), batch.pairwise())
    np.testing.assert_array_equal(alone.main_effects, batch.main_effects)
    assert alone.interactions == batch.interactions


def test_glider_chunk_sizes_agree_with_an_adapter_batch_size_of_100():
    """Issue 15's case: the same model through Glider, chunk_size 20 and 3 over 20 rows."""
    model = _mlp()
    x = np.random.default_rng(1).normal(size=(20, 39)).astype(np.float32)
    with torch_threads(2):
        glider = Glider(model, detector="archdetect", batch_size=100)
        runs = [glider.detect(x, top_k=5, seed=0, chunk_size=c, n_samples=39**2 + 39 + 2, show_progress=False) for c in (20, 3)]
    assert runs[0] == runs[1]
    frames = [r.to_dataframe() for r in runs]
    for other in frames[1:]:
        np.testing.assert_array_equal(frames[0]["mean_strength"].to_numpy(), other["mean_strength"].to_numpy())


# ---------------------------------------------------------------- 2. a resume must be the same run
RESUME = dict(top_k=3, baselines=0.0, seed=5, chunk_size=4, show_progress=False)


def test_a_checkpoint_of_one_nid_refuses_a_nid_with_other_settings(tmp_path):
    """Issue 15's case: NIDDetector() checkpointed, resumed with patience=0, max_interactions=2,
    max_order=2 (settings its repr used to leave out)."""
    from glider_plugins.detectors import NIDDetector

    data = instances(n=8, seed=3)
    settings = {**RESUME, "n_samples": 60}
    first = Glider(planted, detector=NIDDetector()).detect(data, checkpoint=tmp_path, **settings)
    again = Glider(planted, detector=NIDDetector()).detect(data, checkpoint=tmp_path, **settings)
    assert again == first and again.metadata["resumed_chunks"] == 2
    other = NIDDetector(patience=0, max_interactions=2, max_order=2)
    with pytest.raises(InputError, match=r"other settings \(detector.params.max_interactions: checkpoint has .100., this run .2.; detector.params.max_order: .*detector.params.patience: checkpoint has .5., this run .0."):
        Glider(planted, detector=other).detect(data, checkpoint=tmp_path, **settings)
    assert "patience=0" in repr(other) and "instance_batch=128" in repr(other)
    assert type(other)(**other.get_params()).get_params() == other.get_params()


def test_every_builtin_detector_and_scheme_reports_every_constructor_argument():
    import inspect

    from glider_plugins.plugins import available, make_detector, make_perturbation

    for kind, make in (("detectors", make_detector), ("perturbations", make_perturbation)):
        for name in available(kind):
            component = make(name)
            if name == "auto" or type(component).__module__.startswith("glider_plugin_"):
                continue
            expected = {n for n, p in inspect.signature(type(component).__init__).parameters.items()
                        if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
            assert set(component.get_params()) == expected, name
            assert type(component)(**component.get_params()).get_params() == component.get_params(), name


def test_two_onnx_sessions_of_different_models_are_different_runs(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from tests.models import export_torch_onnx

    sessions = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 1)).eval()
        path = export_torch_onnx(net, (torch.zeros(2, 8),), ["x"], tmp_path / f"m{seed}.onnx")
        sessions.append(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]))
    data = instances(n=8, seed=4).astype(np.float32)
    Glider(sessions[0], detector="archdetect").detect(data, checkpoint=tmp_path / "ckpt", **RESUME)
    again = Glider(sessions[0], detector="archdetect").detect(data, checkpoint=tmp_path / "ckpt", **RESUME)
    assert again.metadata["resumed_chunks"] == 2
    with pytest.raises(InputError, match=r"other settings \(model: "):
        Glider(sessions[1], detector="archdetect").detect(data, checkpoint=tmp_path / "ckpt", **RESUME)


def test_two_different_lambdas_are_different_runs_and_an_opaque_callable_is_refused(tmp_path):
    import functools

    data = instances(n=8, seed=5)
    first = lambda x: planted(x)  # noqa: E731
    second = lambda x: planted(x) + x[:, 7] * x[:, 6]  # noqa: E731
    with pytest.warns(UserWarning, match="fingerprinted by its code"):
        Glider(first, detector="archdetect").detect(data, checkpoint=tmp_path / "a", **RESUME)
    with pytest.warns(UserWarning, match="fingerprinted by its code"), pytest.raises(InputError, match=r"other settings \(model: "):
        Glider(second, detector="archdetect").detect(data, checkpoint=tmp_path / "a", **RESUME)

    def scaled(x, scale):
        return scale * planted(x)

    with pytest.raises(InputError, match="checkpoint: cannot fingerprint the model"):
        Glider(functools.partial(scaled, scale=2.0), detector="archdetect").detect(data, checkpoint=tmp_path / "b", **RESUME)
    closure_runs = []
    for factor in (1.0, 3.0):  # the same code, another closure value
        def model(x, factor=factor):
            return factor * planted(x)
        closure_runs.append(model)
    with pytest.warns(UserWarning):
        Glider(closure_runs[0], detector="archdetect").detect(data, checkpoint=tmp_path / "c", **RESUME)
    with pytest.warns(UserWarning), pytest.raises(InputError, match="model: "):
        Glider(closure_runs[1], detector="archdetect").detect(data, checkpoint=tmp_path / "c", **RESUME)


# ---------------------------------------------------------------- 3. chunk files are checked
def _stored_run(folder):
    data = instances(n=12, seed=6)
    result = Glider(planted, detector="archdetect").detect(data, checkpoint=folder, **RESUME)
    return data, result


def _resume(data, folder, **changes):
    return Glider(planted, detector="archdetect").detect(data, checkpoint=folder, **{**RESUME, **changes})


def test_a_chunk_file_replaced_by_another_chunks_is_refused(tmp_path):
    import shutil

    data, _ = _stored_run(tmp_path)
    shutil.copy(tmp_path / "chunk-000001.json", tmp_path / "chunk-000000.json")
    with pytest.raises(InputError, match=r"chunk-000000.json' holds chunk 1, not chunk 0; delete it"):
        _resume(data, tmp_path)


@pytest.mark.parametrize(("edit", "match"), [
    (lambda c: c.update(instance_ids=c["instance_ids"][:-1]), r"holds instances \[0, 1, 2\], this run's chunk 0 has \[0, 1, 2, 3\]"),
    (lambda c: c["interactions"][0].append([[0, 99], 1.0]), r"names features \[99\], outside this run's 0..7"),
    (lambda c: c.update(constant=c["constant"][:2]), r"holds 4 results and 2 flags for 4 instances"),
    (lambda c: c.update(interactions="x"), "is unreadable"),
])
def test_a_tampered_chunk_file_is_refused(tmp_path, edit, match):
    import json

    data, _ = _stored_run(tmp_path)
    file = tmp_path / "chunk-000000.json"
    content = json.loads(file.read_text())
    edit(content)
    file.write_text(json.dumps(content))
    with pytest.raises(InputError, match=match):
        _resume(data, tmp_path)


def test_chunks_outlive_a_deleted_header_only_for_the_same_run(tmp_path):
    data, first = _stored_run(tmp_path)
    (tmp_path / "header.json").unlink()
    again = _resume(data, tmp_path)  # same settings: the same header, the chunks are this run's
    assert again == first and again.metadata["resumed_chunks"] == 3
    (tmp_path / "header.json").unlink()
    with pytest.raises(InputError, match="belongs to another run"):
        _resume(data, tmp_path, seed=6)
    (tmp_path / "header.json").unlink()
    with pytest.raises(InputError, match="belongs to another run"):
        _resume(data, tmp_path, top_k=4)


# ---------------------------------------------------------------- 4. errors that name the argument
def _two_outputs(x):
    return np.stack([planted(x), -planted(x)], axis=1)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda x: InteractionAttribution(_two_outputs).attribute_interactions(x, target=1.0), InputError, r"target: expected an output index .* got 1.0"),
    (lambda x: InteractionAttribution(_two_outputs).attribute_interactions(x, target=[0, 1]), InputError, r"target: a list of targets needs one per instance \(3\), got 2"),
    (lambda x: InteractionAttribution(_two_outputs).attribute_interactions(x, target=[0, 1, 1, 1]), InputError, r"one per instance \(3\), got 4"),
    (lambda x: InteractionAttribution(planted).attribute_interactions(x, baselines="zero"), InputTypeError, r"baselines: expected a number.*'zero'"),
    (lambda x: InteractionAttribution(planted, detector="nid").attribute_interactions(x, kernel_width="a"), InputError, "kernel_width must be a finite number, got 'a'"),
    (lambda x: Glider(planted).detect(x, seed=-1, show_progress=False), InputError, "seed must be an integer >= 0"),
    (lambda x: Glider(planted).detect(x, n_samples=None, show_progress=False), InputError, "n_samples must be a positive integer, got None"),
    (lambda x: Glider(planted).detect(x, n_samples="300", show_progress=False), InputError, "n_samples must be a positive integer, got '300'"),
    (lambda x: Glider(planted).detect(x, n_samples=250.9, show_progress=False), InputError, "n_samples must be a positive integer, got 250.9"),
    (lambda x: InteractionAttribution(planted).attribute_interactions(x[0]), InputError, r"inputs: got a 1-D array of shape \(8,\).*\(1, 8\)"),
    (lambda x: InteractionAttribution(planted).attribute_interactions(x + 1j), InputTypeError, "inputs: expected real numbers.*complex128"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call(instances(n=3))


def test_nan_in_inputs_names_the_instances_not_padded_rows():
    x = instances(n=3)
    x[1, 2] = np.nan
    with pytest.raises(InputError, match=r"inputs: instance\(s\) \[1\] hold NaN"):
        InteractionAttribution(planted).attribute_interactions(x, n_samples=100)
    with pytest.raises(InputError, match=r"inputs: instance\(s\) \[1\] hold NaN"):  # at once: no retry, no "every chunk failed"
        Glider(planted).detect(x, show_progress=False, retries=3)


def test_a_callable_returning_a_python_list_is_one_score_per_row():
    x = instances(n=2)
    as_list = InteractionAttribution(lambda a: planted(a).tolist(), detector="archdetect").attribute_interactions(x)
    as_array = InteractionAttribution(planted, detector="archdetect").attribute_interactions(x)
    np.testing.assert_array_equal(as_list.pairwise(), as_array.pairwise())


# ---------------------------------------------------------------- 6. typed outcomes, declared schemes
def test_constant_outputs_are_a_typed_error_and_warning():
    from glider_plugins.errors import ConstantOutputError, ConstantOutputWarning

    x = instances(n=3)
    with pytest.raises(ConstantOutputError):
        InteractionAttribution(lambda a: np.ones(len(a))).attribute_interactions(x, n_samples=100)

    def partly_constant(a):
        return np.where(np.isclose(a[:, 7], x[0, 7]) | (a[:, 7] == 0), 1.0, planted(a))

    with pytest.warns(ConstantOutputWarning, match=r"instance\(s\) \[0\]"):
        res = InteractionAttribution(partly_constant, detector="archdetect").attribute_interactions(x)
    assert res[0].metadata["constant_output"] and not res[1].metadata.get("constant_output")
    counted = Glider(partly_constant, detector="archdetect").detect(x, show_progress=False)
    assert counted.metadata["n_constant"] == 1


def test_every_builtin_scheme_declares_whether_it_is_deterministic():
    from glider_plugins.plugins import available, make_perturbation

    for name in available("perturbations"):
        scheme = make_perturbation(name)
        if type(scheme).__module__.startswith("glider_plugins."):
            assert scheme.deterministic is True, name
    ids = np.array([[5, 6, 7, 8, 9, 10]])
    res = InteractionAttribution(lambda t: (t[:, 0] == 5) * (t[:, 1] == 6) + 0.1 * (t[:, 2] == 7), perturbation="token",
                                 detector="nid").attribute_interactions(ids, baselines=1, n_samples=300, seed=0, max_epochs=3)
    assert res.metadata["n_repeated"] > 0  # 6 words, 300 masks: repeats are answered once


def test_the_reproducibility_contract_in_one_place():
    from glider_plugins import reproducibility as contract

    assert contract.call_rows(16384, 100) == 100 and contract.call_rows(64, None) == 64 and contract.call_rows(64, 1) == 1
    assert contract.row_alignment(100) == contract.ROW_ALIGN == 16 and contract.row_alignment(8) == 1
    seq = np.random.SeedSequence([5, 7])
    same = [contract.block_generator(seq, s, 100).random() for s in (0, 99, 100)]
    assert same[0] == same[1] != same[2]  # one stream per block of 100 samples


def test_additional_forward_args_follow_one_rule_in_attribute_and_glider():
    def f(x, scale, power):
        return scale[:, 0] * planted(x) ** power

    x = instances(n=9)
    scale = np.linspace(0.5, 2.0, 9)[:, None]
    glider = Glider(f, detector="archdetect")
    runs = [glider.detect(x, additional_forward_args=(scale, 1), top_k=3, chunk_size=c, seed=0, show_progress=False) for c in (9, 4)]
    assert runs[0] == runs[1]
    alone = InteractionAttribution(f, detector="archdetect").attribute_interactions(x[4:5], additional_forward_args=(scale[4:5], 1), seed=0)
    batch = InteractionAttribution(f, detector="archdetect").attribute_interactions(x, additional_forward_args=(scale, 1), seed=0)
    np.testing.assert_array_equal(alone[0].pairwise(), batch[4].pairwise())
    with pytest.raises(InputError, match=r"additional_forward_args: a tensor of shape \(5, 1\) must have one row per row of data \(9\)"):
        glider.detect(x, additional_forward_args=(np.ones((5, 1)), 1), show_progress=False)
