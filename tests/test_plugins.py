"""The plugin system, with real pluggy and really installed plugins (no mocks).

The test environment installs two packages the way a user would (tox ``deps``; by hand:
``pip install ./examples/plugin_example ./tests/data/broken_plugin``):

* ``glider-plugin-example`` (entry point ``example``): the ``"gaussian"`` perturbation scheme and the
  ``"hashed_cross"`` encoder;
* ``glider-plugin-broken``: ``broken_import`` fails on import, ``broken_hook`` raises in its
  registration hooks. Both must only warn.

Other plugins here are registered with ``pm.register`` on purpose: they test conflicts, adapters and
bad factories, not discovery.
"""

from __future__ import annotations

import importlib.metadata
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest

from glider_plugins.adapters.base import ModelAdapter
from glider_plugins.detectors.base import Detector
from glider_plugins.encoders.base import Encoder, NotFittedError
from glider_plugins.errors import (
    GliderError,
    InputError,
    InputTypeError,
    PluginConflictError,
    UnknownPluginError,
)
from glider_plugins.layout import FeatureLayout
from glider_plugins.perturbations.base import PerturbationScheme
from glider_plugins.plugins import (
    BLOCK_ENV,
    KINDS,
    NAME,
    PluginWarning,
    adapt_model,
    available,
    get_factory,
    get_plugin_manager,
    hookimpl,
    make_detector,
    make_encoder,
    make_perturbation,
    plugin_distributions,
    reset_plugin_manager,
)

# The broken test plugin warns whenever a manager is built; tests that expect it use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::glider_plugins.plugins.PluginWarning")


@pytest.fixture(autouse=True)
def fresh_manager(monkeypatch):
    """Every test starts and ends with a freshly built manager and no blocked plugins."""
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def _layout(x: np.ndarray, feature_ids: list[int]) -> FeatureLayout:
    fm = np.asarray(feature_ids, dtype=np.int64)[None, :]
    return FeatureLayout(inputs=(x,), feature_mask=(fm,), n_features=int(fm.max()) + 1, baselines=(np.zeros(x.shape[1:]),))


# ------------------------------------------------------------------------------ discovery & listing
def test_example_plugin_is_discovered_through_its_entry_point():
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=NAME)}
    assert eps["example"].value == "glider_plugin_example.plugin"
    assert eps["example"].dist.metadata["Name"] == "glider-plugin-example"

    pm = get_plugin_manager()
    import glider_plugin_example.plugin

    assert pm.get_plugin("example") is glider_plugin_example.plugin
    assert pm.get_plugin("builtins") is not None
    assert plugin_distributions()["example"].startswith("glider-plugin-example ")


def test_available_lists_every_kind_with_its_provider():
    perturbations = available("perturbations")
    assert perturbations["binary"] == "builtins" and perturbations["gaussian"] == "example"
    assert available("detectors") == {"archdetect": "builtins", "auto": "builtins", "fourier": "builtins", "moebius": "builtins", "nid": "builtins"}
    assert available("encoders") == {"cross": "builtins", "hashed_cross": "example"}
    assert available("adapters") == {"callable": "builtins", "onnx": "builtins", "tensorflow": "builtins", "torch": "builtins"}
    with pytest.raises(ValueError, match="perturbations.*detectors.*encoders.*adapters"):
        available("widgets")


def test_listing_does_not_import_implementations():
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from glider_plugins.plugins import KINDS, available\n"
        "[available(k) for k in KINDS]\n"
        "heavy = ['torch', 'tensorflow', 'onnxruntime', 'glider_plugins.detectors.nid', 'glider_plugin_example.gaussian']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_adapters_are_registered_lazily_but_resolve_to_the_classes():
    factory = get_factory("adapters", "callable")
    from glider_plugins.adapters.callable import CallableAdapter

    assert factory.resolve() is CallableAdapter
    adapter = factory(lambda x: x.sum(axis=1))
    assert isinstance(adapter, CallableAdapter)
    assert factory.framework == CallableAdapter.framework  # attributes come from the class


# ---------------------------------------------------------------------------- the "gaussian" scheme
def test_gaussian_scheme_by_name_samples_lime_masks():
    scheme = make_perturbation("gaussian")
    assert isinstance(scheme, PerturbationScheme)
    assert type(scheme).__module__ == "glider_plugin_example.gaussian" and scheme.name == "gaussian"

    masks = scheme.sample_masks(3, 5, 400, np.random.default_rng(0))
    assert masks.shape == (3, 400, 5) and masks.dtype == bool
    assert masks[:, 0].all()
    n_off = (~masks[:, 1:]).sum(axis=-1)
    assert n_off.min() == 1 and n_off.max() == 5  # 1..p features perturbed
    assert set(np.unique(n_off)) == {1, 2, 3, 4, 5}
    assert np.allclose((~masks[:, 1:]).mean(axis=(0, 1)), 0.6, atol=0.05)  # every feature alike: E[k]/p = 3/5

    again = scheme.sample_masks(3, 5, 400, np.random.default_rng(0))
    other = scheme.sample_masks(3, 5, 400, np.random.default_rng(1))
    assert np.array_equal(masks, again) and not np.array_equal(masks, other)


def test_gaussian_scheme_jitters_only_perturbed_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6))
    layout = _layout(x, [0, 0, 1, 2, 3, 3])  # p = 4, features 0 and 3 span two elements
    scheme = make_perturbation("gaussian", sigma=2.0)
    masks = scheme.sample_masks(2, 4, 2000, np.random.default_rng(1)).reshape(-1, 4)
    ids = np.repeat([0, 1], 2000)

    (rows,) = scheme.perturb(layout, masks, ids, np.random.default_rng(2))
    assert rows.shape == (4000, 6) and rows.dtype == x.dtype
    on = masks[:, [0, 0, 1, 2, 3, 3]]
    assert np.array_equal(rows[on], x[ids][on])  # kept features: exactly the instance's value
    delta = (rows - x[ids])[~on]
    assert np.all(delta != 0)  # perturbed features: moved ...
    assert abs(delta.mean()) < 0.1 and abs(delta.std() - 2.0) < 0.1  # ... by N(0, sigma^2) noise

    (same,) = scheme.perturb(layout, masks, ids, np.random.default_rng(2))
    (other,) = scheme.perturb(layout, masks, ids, np.random.default_rng(3))
    assert np.array_equal(rows, same) and not np.array_equal(rows, other)


def test_gaussian_scheme_rejects_integer_inputs_and_bad_sigma():
    layout = _layout(np.arange(8).reshape(2, 4), [0, 1, 2, 3])
    scheme = make_perturbation("gaussian")
    with pytest.raises(InputTypeError, match="input 0 is int64"):
        scheme.perturb(layout, np.zeros((1, 4), bool), np.array([0]), np.random.default_rng(0))
    with pytest.raises(InputError, match="sigma"):
        make_perturbation("gaussian", sigma=-1.0)


# ------------------------------------------------------------------------- the "hashed_cross" encoder
def test_hashed_cross_encoder_by_name():
    enc = make_encoder("hashed_cross", groups=[(0, 1), (1, 2, 3)], n_buckets=16)
    assert isinstance(enc, Encoder) and type(enc).__module__ == "glider_plugin_example.hashed_cross"
    with pytest.raises(NotFittedError, match="fit"):
        enc.transform(np.zeros((1, 4)))

    rng = np.random.default_rng(0)
    X = rng.integers(0, 5, size=(200, 4))
    ids = enc.fit_transform(X)
    assert enc.fit(X) is enc
    assert ids.shape == (200, 2) and ids.dtype == np.int64
    assert ids.min() >= 0 and ids.max() < 16
    assert enc.n_features_in_ == 4 and enc.groups_ == ((0, 1), (1, 2, 3))
    assert enc.n_combinations_[0] == len({tuple(r) for r in X[:, :2]})
    # one combination -> one id, wherever it occurs
    first = {}
    for combo, i in zip(map(tuple, X[:, :2]), ids[:, 0]):
        assert first.setdefault(combo, i) == i

    # unseen values and combinations get ids in range, the same ones an encoder fitted elsewhere gives
    unseen = np.array([[99, -7, 3, 1000], [12345, 0, 0, 0]])
    got = enc.transform(unseen)
    assert got.min() >= 0 and got.max() < 16
    other = make_encoder("hashed_cross", groups=[(0, 1), (1, 2, 3)], n_buckets=16).fit(unseen)
    assert np.array_equal(other.transform(unseen), got)
    assert np.array_equal(other.transform(X), ids)
    assert list(enc.get_feature_names_out()) == ["x0_x_x1", "x1_x_x2_x_x3"]


def test_hashed_cross_encoder_follows_sklearn_conventions():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": ["a", "b", "a"], "item": [1.0, 2.0, 1.0], "hour": [3, 4, 5]})
    enc = make_encoder("hashed_cross", groups=[("user", "item")], n_buckets=1000)
    assert enc.get_params() == {"groups": [("user", "item")], "n_buckets": 1000, "seed": 0}
    ids = enc.fit_transform(df)
    assert list(enc.feature_names_in_) == ["user", "item", "hour"]
    assert list(enc.get_feature_names_out()) == ["user_x_item"]
    assert ids[0, 0] == ids[2, 0] and ids[0, 0] != ids[1, 0]
    # a whole float hashes like the int, so a column that became float keeps its ids
    as_int = df.astype({"item": "int64"})
    assert np.array_equal(enc.transform(as_int), ids)
    assert enc.set_params(seed=3) is enc and not np.array_equal(enc.fit_transform(df), ids)

    bad = make_encoder("hashed_cross", groups=[("user", "nope")])  # parameters are checked in fit
    with pytest.raises(InputError, match="unknown column 'nope'"):
        bad.fit(df)
    with pytest.raises(InputError, match="n_buckets"):
        make_encoder("hashed_cross", groups=[(0, 1)], n_buckets=0).fit(np.zeros((2, 2)))
    with pytest.raises(InputError, match="columns"):
        enc.fit(df).transform(df[["user", "item"]])


def test_encoders_work_in_sklearn_pipelines():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    enc = make_encoder("hashed_cross", groups=[(0, 1)], n_buckets=8)
    assert repr(clone(enc)) == "HashedCrossEncoder(groups=[(0, 1)], n_buckets=8, seed=0)"
    X = np.random.default_rng(0).integers(0, 4, size=(20, 2))
    pipe = make_pipeline(enc, OneHotEncoder()).fit(X)
    assert pipe.transform(X).shape[0] == 20
    assert all(name.startswith("x0_x_x1_") for name in pipe.get_feature_names_out())


# ---------------------------------------------------------------------------------------- blocking
def test_blocking_by_environment_variable_removes_the_plugin(monkeypatch):
    monkeypatch.setenv(BLOCK_ENV, "example")
    reset_plugin_manager()
    assert "gaussian" not in available("perturbations")
    assert "hashed_cross" not in available("encoders")
    assert get_plugin_manager().is_blocked("example")
    with pytest.raises(UnknownPluginError, match=f"blocked by {BLOCK_ENV}: example"):
        make_perturbation("gaussian")
    assert available("detectors") == {"archdetect": "builtins", "auto": "builtins", "fourier": "builtins", "moebius": "builtins", "nid": "builtins"}


def test_blocking_the_broken_plugins_silences_them(monkeypatch):
    monkeypatch.setenv(BLOCK_ENV, "broken_import, broken_hook")
    reset_plugin_manager()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        for kind in KINDS:
            available(kind)
    assert "gaussian" in available("perturbations")


# ------------------------------------------------------------------------------------------ faults
def test_broken_plugins_warn_and_everything_else_keeps_working():
    with pytest.warns(PluginWarning) as record:
        pm = get_plugin_manager()
        perturbations = available("perturbations")
        detectors = available("detectors")
    messages = [str(w.message) for w in record]
    assert any("broken_import" in m and "glider-plugin-broken" in m and "deliberately broken" in m for m in messages)
    assert any("broken_hook" in m and "glider_register_perturbations" in m for m in messages)
    assert any("broken_hook" in m and "glider_register_detectors" in m for m in messages)
    assert pm.get_plugin("broken_import") is None
    assert perturbations["binary"] == "builtins" and perturbations["gaussian"] == "example"
    assert not {"broken_import", "broken_hook"} & set(perturbations.values())
    assert detectors == {"archdetect": "builtins", "auto": "builtins", "fourier": "builtins", "moebius": "builtins", "nid": "builtins"}
    assert isinstance(make_perturbation("binary"), PerturbationScheme)
    assert isinstance(make_detector("nid"), Detector)


class _Provides:
    """A plugin object registering one perturbation name (for conflicts)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def glider_register_perturbations(self):
        from glider_plugin_example.gaussian import GaussianPerturbation

        return {self.name: GaussianPerturbation}


@pytest.mark.parametrize("name, owner", [("binary", "builtins"), ("gaussian", "example")])
def test_a_name_registered_twice_is_an_error_naming_both_plugins(name, owner):
    get_plugin_manager().register(_Provides(name), name="clash")
    with pytest.raises(PluginConflictError) as info:
        available("perturbations")
    message = str(info.value)
    assert f"'{name}'" in message and f"'{owner}'" in message and "'clash'" in message
    with pytest.raises(PluginConflictError):
        make_perturbation(name)
    assert "nid" in available("detectors")  # other kinds are unaffected

    from glider_plugins.cli import main

    out = io.StringIO()
    assert main(["plugins", "--kind", "perturbations"], out=out) == 1
    assert sum(line.endswith("CONFLICT") for line in out.getvalue().splitlines()) == 2


def test_a_factory_building_the_wrong_type_is_reported():
    class Bad:
        @hookimpl
        def glider_register_detectors(self):
            return {"bogus": lambda: object()}

    get_plugin_manager().register(Bad(), name="bad")
    with pytest.raises(InputTypeError, match="'bogus' \\(from plugin 'bad'\\) built a object, which is not a Detector"):
        make_detector("bogus")


# -------------------------------------------------------------------------------------- built-ins
def test_builtins_are_an_ordinary_plugin():
    pm = get_plugin_manager()
    builtins = pm.unregister(name="builtins")
    assert "binary" not in available("perturbations") and "gaussian" in available("perturbations")
    assert available("detectors") == {}
    assert available("adapters") == {}
    with pytest.raises(UnknownPluginError):
        make_detector("nid")
    pm.register(builtins, name="builtins")
    assert available("detectors") == {"archdetect": "builtins", "auto": "builtins", "fourier": "builtins", "moebius": "builtins", "nid": "builtins"}


# -------------------------------------------------------------------------------- names & options
def test_unknown_names_list_the_known_ones():
    with pytest.raises(UnknownPluginError, match="unknown perturbation 'nope'; known perturbations: 'binary', 'gaussian'") as info:
        make_perturbation("nope")
    assert isinstance(info.value, KeyError) and isinstance(info.value, GliderError)
    with pytest.raises(UnknownPluginError, match="'archdetect', 'auto', 'fourier', 'moebius', 'nid'.*did you mean 'nid'"):
        make_detector("nidd")
    with pytest.raises(UnknownPluginError, match="known encoders: 'cross', 'hashed_cross'"):
        make_encoder("crosses")
    with pytest.raises(UnknownPluginError, match="'callable', 'onnx', 'tensorflow', 'torch'"):
        get_factory("adapters", "jax")

    from glider_plugins import InteractionAttribution

    with pytest.raises(UnknownPluginError, match="'binary', 'gaussian'"):
        InteractionAttribution(lambda x: x.sum(axis=1), perturbation="gausian")


def test_options_and_instances():
    with pytest.raises(InputError, match="'gaussian'.*'sgma'.*sigma"):
        make_perturbation("gaussian", sgma=1.0)
    scheme = make_perturbation("gaussian", sigma=0.1)
    assert make_perturbation(scheme) is scheme
    with pytest.raises(InputError, match="already built"):
        make_perturbation(scheme, sigma=0.2)
    with pytest.raises(InputTypeError, match="name .* or a PerturbationScheme"):
        make_perturbation(3)


# ---------------------------------------------------------------------------------------- adapters
class _Doubler:
    """A model type no built-in recogniser knows; callable, so the built-in one would take it."""

    def __call__(self, x):
        return 2 * np.asarray(x).sum(axis=1)


class _DoublerAdapter(ModelAdapter):
    framework = "doubler"

    def __init__(self, model, **options):
        super().__init__(**options)
        self.model = model

    def _predict(self, batch):
        return self.model(batch[0]) + 1000  # recognisably not the built-in callable adapter


def test_a_plugins_adapt_model_is_asked_before_the_builtin_one():
    seen = []

    class DoublerPlugin:
        @hookimpl
        def glider_adapt_model(self, model, options):
            seen.append(type(model).__name__)
            return _DoublerAdapter(model, **options) if isinstance(model, _Doubler) else None

    get_plugin_manager().register(DoublerPlugin(), name="doubler")
    adapter = adapt_model(_Doubler(), {"batch_size": 4})
    assert isinstance(adapter, _DoublerAdapter) and adapter.batch_size == 4
    np.testing.assert_allclose(adapter(np.ones((3, 2))), [1004.0, 1004.0, 1004.0])

    from glider_plugins import adapt

    assert isinstance(adapt(_Doubler()), _DoublerAdapter)
    fallback = adapt_model(lambda x: x.sum(axis=1), {})  # not ours: the built-in recogniser answers
    assert fallback is not None and not isinstance(fallback, _DoublerAdapter)
    assert seen == ["_Doubler", "_Doubler", "function"]


# ---------------------------------------------------------------------------------------------- CLI
def test_glider_plugins_command_prints_the_table():
    proc = subprocess.run([sys.executable, "-m", "glider_plugins.cli", "plugins"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split() for line in proc.stdout.splitlines()]
    assert lines[0] == ["KIND", "NAME", "PLUGIN", "DISTRIBUTION"]
    rows = {(row[0], row[1]): row[2:] for row in lines[1:] if row}
    assert rows[("perturbations", "gaussian")][:2] == ["example", "glider-plugin-example"]
    assert rows[("encoders", "hashed_cross")][0] == "example"
    assert rows[("perturbations", "binary")][0] == "builtins"
    assert rows[("detectors", "nid")][0] == "builtins"
    assert rows[("adapters", "onnx")][0] == "builtins"
    assert "warning: could not load plugin 'broken_import'" in proc.stderr


def test_glider_plugins_command_in_process():
    from glider_plugins.cli import main

    out = io.StringIO()
    assert main(["plugins", "--kind", "encoders"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["KIND", "NAME", "PLUGIN", "DISTRIBUTION"]
    assert [line.split()[:3] for line in lines[1:]] == [["encoders", "cross", "builtins"], ["encoders", "hashed_cross", "example"]]


# --------------------------------------------------------------------------------------- end to end
def _moved(v: np.ndarray, v0: float, width: float = 0.05) -> np.ndarray:
    """~0 at v0, ~1 as soon as v moves away from it by more than ``width``."""
    return 1.0 - np.exp(-(((v - v0) / width) ** 2))


def test_interaction_attribution_with_the_plugin_scheme_by_name():
    """The plugin scheme, by name, through the public API, finds a planted pair.

    Noise centred on the instance averages out of anything linear in each feature (for x0 * x1,
    E[(x0 + s e0)(x1 + s e1)] = x0 * x1), so the planted interaction is one the noise can show: the
    model reacts when x0 and x1 *both* move (x2 acts alone, x3 not at all).
    """
    from glider_plugins import InteractionAttribution

    x = np.array([[0.3, -0.2, 0.5, 0.1]])

    def f(X):
        return _moved(X[:, 0], 0.3) * _moved(X[:, 1], -0.2) + _moved(X[:, 2], 0.5)

    res = InteractionAttribution(f, perturbation="gaussian").attribute_interactions(x, n_samples=300, seed=0)
    assert res.metadata["perturbation"] == "gaussian"
    assert res[0].interactions and all(isinstance(s, tuple) for s, _ in res[0].interactions)
    strengths = [v for _, v in res[0].interactions]
    assert strengths == sorted(strengths, reverse=True)
    pairwise = res[0].pairwise()
    i, j = np.unravel_index(np.argmax(np.triu(pairwise, 1)), pairwise.shape)
    assert (i, j) == (0, 1)
    assert any({0, 1} <= set(s) for s, _ in res[0].interactions[:1])
