"""The single query interface: every adapter agrees with the native model, and bad input is named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from glider_plugins.adapters import CallableAdapter, ModelAdapter, adapt
from glider_plugins.adapters.onnx import OnnxAdapter
from glider_plugins.adapters.tensorflow import TensorFlowAdapter
from glider_plugins.adapters.torch import TorchAdapter
from glider_plugins.errors import (
    InputError,
    InputTypeError,
    ModelError,
    ModelLoadError,
    NonFiniteOutputError,
)
from tests import models

BIG = 1000  # larger than every chunk size used below


def torch_scores(model: torch.nn.Module, *arrays: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(*(torch.as_tensor(a) for a in arrays)).numpy()


# ------------------------------------------------------------------ agreement across frameworks
def ctr_adapters(ctr) -> dict[str, ModelAdapter]:
    return {
        "torch": adapt(ctr.torch, batch_size=128),
        "onnx(torch export)": adapt(str(ctr.torch_onnx), batch_size=300),
        "keras": adapt(ctr.keras, batch_size=256),
        "onnx(keras export)": adapt(ctr.keras_onnx),
        "savedmodel": adapt(ctr.saved_model, batch_size=999),
        "onnx(bytes)": adapt(ctr.torch_onnx.read_bytes()),
    }


def test_ctr_model_same_scores_in_every_framework(ctr):
    cat, dense = models.ctr_batch(BIG, seed=1)
    expected = torch_scores(ctr.torch, cat, dense)[:, 0]
    for name, adapter in ctr_adapters(ctr).items():
        scores = adapter((cat, dense))
        assert scores.shape == (BIG,), name
        np.testing.assert_allclose(scores, expected, atol=1e-5, rtol=1e-5, err_msg=name)


def test_named_inputs_match_positional(ctr):
    cat, dense = models.ctr_batch(50, seed=2)
    expected = torch_scores(ctr.torch, cat, dense)[:, 0]
    named = {"dense_values": dense, "cat": cat}  # order of the dict does not matter
    for model in (ctr.torch_onnx, ctr.keras, ctr.saved_model, ctr.keras_onnx):
        np.testing.assert_allclose(adapt(model)(named), expected, atol=1e-5)
    torch_named = {"dense": dense, "cat": cat}  # forward(cat, dense) takes keyword arguments too
    np.testing.assert_allclose(adapt(ctr.torch)(torch_named), expected, atol=1e-5)


def test_onnx_model_proto_and_session_are_accepted(ctr):
    import onnx
    import onnxruntime as ort

    cat, dense = models.ctr_batch(20, seed=3)
    expected = torch_scores(ctr.torch, cat, dense)[:, 0]
    proto = onnx.load(str(ctr.torch_onnx))
    session = ort.InferenceSession(str(ctr.torch_onnx), providers=["CPUExecutionProvider"])
    for model in (proto, session):
        adapter = adapt(model)
        assert isinstance(adapter, OnnxAdapter)
        np.testing.assert_allclose(adapter((cat, dense)), expected, atol=1e-5)


def test_onnx_reads_input_specs_and_casts_to_declared_dtypes(ctr):
    adapter = OnnxAdapter(ctr.torch_onnx, intra_op_num_threads=1, graph_optimization_level="basic")
    specs = adapter.input_specs()
    assert [s.name for s in specs] == ["cat", "dense_values"]
    assert [s.dtype for s in specs] == [np.dtype(np.int64), np.dtype(np.float32)]
    assert specs[1].shape == (None, models.N_DENSE)
    cat, dense = models.ctr_batch(30, seed=4)
    expected = torch_scores(ctr.torch, cat, dense)[:, 0]
    # int32 ids, float64 values and whole-number float ids are cast without loss
    np.testing.assert_allclose(adapter((cat.astype(np.int32), dense.astype(np.float64))), expected, atol=1e-5)
    np.testing.assert_allclose(adapter((cat.astype(np.float64), dense)), expected, atol=1e-5)


def test_fixed_batch_dimension_is_split_and_padded(tmp_path):
    model = models.make_ctr_model(seed=5)
    cat, dense = models.ctr_batch(8, seed=5)
    path = tmp_path / "fixed.onnx"
    torch.onnx.export(model, (torch.as_tensor(cat), torch.as_tensor(dense)), str(path), input_names=["cat", "dense"], dynamo=False)
    adapter = adapt(path)
    assert adapter.fixed_batch_size() == 8
    big_cat, big_dense = models.ctr_batch(37, seed=6)  # 4 full chunks and a short one of 5
    np.testing.assert_allclose(adapter((big_cat, big_dense)), torch_scores(model, big_cat, big_dense)[:, 0], atol=1e-5)


def test_image_cnn_with_target_in_every_framework(cnn):
    x = models.image_batch(BIG, seed=7)
    native = torch_scores(cnn.torch, x)
    assert native.shape == (BIG, models.N_CLASSES)
    adapters = [adapt(cnn.torch, batch_size=333), adapt(cnn.torch_onnx, batch_size=400), adapt(cnn.keras, batch_size=512), adapt(cnn.keras_onnx), adapt(cnn.saved_model)]
    for target in range(models.N_CLASSES):
        for adapter in adapters:
            np.testing.assert_allclose(adapter(x, target=target), native[:, target], atol=1e-5, err_msg=repr(adapter))
    per_row = np.arange(BIG) % models.N_CLASSES
    np.testing.assert_allclose(adapters[1](x, target=per_row), native[np.arange(BIG), per_row], atol=1e-5)
    np.testing.assert_allclose(adapt(cnn.torch, target=2)(x), native[:, 2], atol=1e-5)


def test_output_probabilities_and_logits():
    logits = np.array([[-2.0], [0.0], [3.0]])
    adapter = adapt(lambda x: x, output="probabilities")
    np.testing.assert_allclose(adapter(logits), 1 / (1 + np.exp(-logits[:, 0])))
    probs = 1 / (1 + np.exp(-logits))
    back = adapt(lambda x: x, output="logits", model_output="probabilities")(probs)
    np.testing.assert_allclose(back, logits[:, 0], atol=1e-9)
    multi = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    softmax = np.exp(multi) / np.exp(multi).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(adapt(lambda x: x, output="probabilities")(multi, target=2), softmax[:, 2])


def test_two_class_probabilities_give_log_odds_and_saturated_ones_stay_finite():
    """(N, 2) probabilities to logits: each class's log-odds against the other, as a binary
    classifier's logit; probabilities of exactly 0 or 1 (a saturated float32 tree ensemble) give
    the largest log-odds their precision tells apart, never an infinity."""
    z = np.array([-3.0, 0.5, 4.0])
    two = np.stack([1 / (1 + np.exp(z)), 1 / (1 + np.exp(-z))], axis=1)
    to_logits = adapt(lambda x: x, output="logits", model_output="probabilities")
    np.testing.assert_allclose(to_logits(two, target=1), z, atol=1e-12)
    np.testing.assert_allclose(to_logits(two, target=0), -z, atol=1e-12)
    saturated = to_logits(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), target=1)
    assert np.isfinite(saturated).all() and saturated[0] == -saturated[1] < -80
    single = to_logits(np.array([[0.0], [1.0]], dtype=np.float32))
    assert np.isfinite(single).all() and single[0] < -80 and 16 < single[1] < 17
    three = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_allclose(to_logits(three, target=2), np.log([0.5]))  # more classes: log-probabilities


def test_target_tuple_indexes_multidimensional_output():
    out = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    adapter = adapt(lambda x: out[: len(x)])
    np.testing.assert_array_equal(adapter(np.zeros((2, 1)), target=(1, 2)), out[:, 1, 2])


def test_adapt_returns_n_scores_for_every_framework(ctr):
    cat, dense = models.ctr_batch(17)
    for model in (ctr.torch, ctr.keras, ctr.torch_onnx, ctr.saved_model, lambda c, d: d.sum(axis=1)):
        scores = adapt(model)((cat, dense))
        assert isinstance(scores, np.ndarray) and scores.shape == (17,)


def test_adapt_recognises_each_kind(ctr):
    assert isinstance(adapt(ctr.torch), TorchAdapter)
    assert isinstance(adapt(ctr.keras), TensorFlowAdapter)
    assert isinstance(adapt(ctr.saved_model), TensorFlowAdapter)
    assert isinstance(adapt(str(ctr.torch_onnx)), OnnxAdapter)
    assert isinstance(adapt(np.sum), CallableAdapter)
    forced = adapt(lambda x: x.sum(dim=1), framework="torch")
    assert isinstance(forced, TorchAdapter)
    np.testing.assert_allclose(forced(np.ones((3, 2))), [2.0, 2.0, 2.0])


def test_tf_function_with_signature():
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
    def f(x):
        return tf.reduce_sum(x * x, axis=1)

    adapter = adapt(f)
    assert isinstance(adapter, TensorFlowAdapter)
    np.testing.assert_allclose(adapter(np.array([[1.0, 2.0], [3.0, 0.0]])), [5.0, 9.0])
    with pytest.raises(InputError, match="'x'"):
        adapter(np.ones((2, 3)))


def test_torch_adapter_runs_in_eval_mode_without_grad():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Dropout(0.9), torch.nn.Linear(3, 1))
    model.train()
    adapter = adapt(model)
    x = np.random.default_rng(0).normal(size=(64, 3))
    assert not model.training
    np.testing.assert_array_equal(adapter(x), adapter(x))  # dropout is off


def test_empty_batch_gives_empty_scores(ctr):
    cat, dense = models.ctr_batch(0)
    assert adapt(ctr.torch_onnx)((cat, dense)).shape == (0,)


# ------------------------------------------------------------------ bad input, clear errors
def test_missing_input_name_is_named(ctr):
    cat, _ = models.ctr_batch(4)
    for model in (ctr.torch_onnx, ctr.keras):
        with pytest.raises(InputError, match="missing input.*dense_values"):
            adapt(model)({"cat": cat})


def test_extra_input_name_is_named(ctr):
    cat, dense = models.ctr_batch(4)
    with pytest.raises(InputError, match="unknown input.*'price'"):
        adapt(ctr.torch_onnx)({"cat": cat, "dense_values": dense, "price": dense})


def test_wrong_number_of_positional_inputs(ctr):
    cat, dense = models.ctr_batch(4)
    with pytest.raises(InputError, match=r"takes 2 input\(s\) \['cat', 'dense_values'\], got 1"):
        adapt(ctr.torch_onnx)((cat,))
    with pytest.raises(InputError, match="forward takes 2 positional input"):
        adapt(ctr.torch)((cat, dense, dense))


def test_shape_that_does_not_fit_the_model(ctr):
    cat, dense = models.ctr_batch(4)
    for model in (ctr.torch_onnx, ctr.keras, ctr.saved_model):
        with pytest.raises(InputError, match=r"input 'cat' has shape \(4, 3\).*\(N, 4\)"):
            adapt(model)({"cat": cat[:, :3], "dense_values": dense})


def test_torch_shape_error_is_reported_with_input_shapes(ctr):
    cat, dense = models.ctr_batch(4)
    with pytest.raises(ModelError, match=r"torch model raised .* \(4, 2\)"):
        adapt(ctr.torch)((cat, dense[:, :2]))


def test_batch_sizes_must_agree(ctr):
    cat, dense = models.ctr_batch(4)
    with pytest.raises(InputError, match="same batch size"):
        adapt(ctr.torch_onnx)((cat, dense[:3]))


def test_floats_into_id_inputs_are_refused(ctr):
    cat, dense = models.ctr_batch(4)
    bad = cat.astype(np.float64) + 0.5
    for adapter in (adapt(ctr.torch_onnx), adapt(ctr.keras), adapt(ctr.torch, input_dtypes=("int64", "float32"))):
        with pytest.raises(InputTypeError, match="input 'cat' expects integer ids"):
            adapter((bad, dense))


def test_corrupt_onnx_file(tmp_path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"\x08\x07this is not a protobuf of an onnx model" * 10)
    with pytest.raises(ModelLoadError, match="corrupt.onnx"):
        adapt(path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelLoadError, match="notes.txt.*not a valid ONNX model"):
        adapt(text)
    with pytest.raises(ModelLoadError, match="no ONNX file"):
        adapt(tmp_path / "missing.onnx")
    with pytest.raises(ModelLoadError, match="bytes"):
        adapt(b"garbage bytes")


def test_model_returning_nan_or_inf():
    def f(x):
        out = x.sum(axis=1)
        out[3] = np.nan
        return out

    with pytest.raises(NonFiniteOutputError, match=r"NaN\) for 1 of 10 rows \(first at row 3\)"):
        adapt(f)(np.ones((10, 2)))
    with pytest.raises(NonFiniteOutputError, match="inf"):
        adapt(lambda x: np.log(x[:, 0]))(np.zeros((4, 1)))
    assert np.isnan(adapt(f, check_finite=False)(np.ones((10, 2)))[3])


def test_model_that_raises_is_wrapped_with_its_cause():
    def f(x):
        raise ZeroDivisionError("boom")

    with pytest.raises(ModelError, match=r"callable model raised ZeroDivisionError on a batch of 5 rows .*\(5, 2\).*boom") as info:
        adapt(f)(np.ones((5, 2)))
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_target_out_of_range_and_missing(cnn):
    x = models.image_batch(4)
    adapter = adapt(cnn.torch_onnx)
    with pytest.raises(InputError, match=r"target=5 is out of range for a model with 3 outputs"):
        adapter(x, target=5)
    with pytest.raises(InputError, match=r"target: the model returns \(3,\) scores per row"):
        adapter(x)
    with pytest.raises(InputError, match="target: value 3 is out of range"):
        adapter(x, target=[0, 1, 2, 3])
    with pytest.raises(InputError, match="one per row"):
        adapter(x, target=[0, 1])


def test_wrong_model_output_rows():
    with pytest.raises(ModelError, match="returned 1 rows for a batch of 3"):
        adapt(lambda x: x[:1, 0])(np.ones((3, 2)))


def test_unknown_model_and_framework():
    with pytest.raises(InputError, match="cannot tell how to query"):
        adapt(object())
    with pytest.raises(InputError, match="framework='jax' is unknown"):
        adapt(np.sum, framework="jax")


def test_bad_adapter_options():
    with pytest.raises(InputError, match="batch_size must be a positive integer"):
        adapt(np.sum, batch_size=0)
    with pytest.raises(InputError, match="output must be one of"):
        adapt(np.sum, output="odds")


def test_multiple_outputs_are_picked_by_name(tmp_path):
    class TwoHeads(torch.nn.Module):
        def forward(self, x):
            return x.sum(dim=1, keepdim=True), (2 * x).sum(dim=1, keepdim=True)

    path = tmp_path / "two.onnx"
    torch.onnx.export(TwoHeads(), (torch.ones(2, 3),), str(path), input_names=["x"], output_names=["a", "b"], dynamic_axes={"x": {0: "n"}}, dynamo=False)
    x = np.ones((4, 3), dtype=np.float32)
    np.testing.assert_allclose(adapt(path)(x), [3.0] * 4)
    np.testing.assert_allclose(adapt(path, output_name="b")(x), [6.0] * 4)
    np.testing.assert_allclose(adapt(TwoHeads(), output_name=1)(x), [6.0] * 4)
    with pytest.raises(InputError, match="output_name='c' is not an output.*'a', 'b'"):
        adapt(path, output_name="c")(x)


@pytest.mark.parametrize("which", ["torch", "torch_onnx", "keras", "keras_onnx"])
def test_a_row_scores_the_same_alone_and_in_a_batch(ctr, which):
    """One row is never sent alone (BLAS answers one-row products through other kernels), so an
    instance explained alone sees exactly the scores it sees in a batch."""
    cat, dense = models.ctr_batch(64, seed=4)
    f = adapt(getattr(ctr, which))
    batch = f((cat, dense))
    for i in (0, 17, 63):
        np.testing.assert_array_equal(f((cat[i : i + 1], dense[i : i + 1])), batch[i : i + 1])
