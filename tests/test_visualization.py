"""Pictures: every function draws real matplotlib figures (Agg) whose content is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from skimage.segmentation import find_boundaries  # noqa: E402

from glider_plugins import visualization as vis  # noqa: E402
from glider_plugins.errors import InputError  # noqa: E402
from glider_plugins.results import AttributionResult, LocalInteractions  # noqa: E402

NAMES = ["age", "gender", "occupation", "zip", "genre"]


def make_local(names=NAMES, main=(0.9, -0.4, 0.2, -0.05, 0.6)):
    p = len(names)
    pairwise = np.zeros((p, p))
    for i, j, v in [(0, 1, 1.2), (2, 4, 0.8), (1, 3, 0.3)]:
        pairwise[i, j] = pairwise[j, i] = v
    interactions = [((0, 1), 1.2), ((2, 4), 0.8), ((0, 2, 4), 0.5), ((1, 3), 0.3)]
    return LocalInteractions(interactions, np.array(main), pairwise, feature_names=list(names))


def assert_png_size(png: np.ndarray, fig: Figure, dpi: int) -> None:
    """The PNG is the figure's size at ``dpi`` (Agg may round a fractional pixel either way)."""
    w, h = fig.get_size_inches() * dpi
    assert abs(png.shape[0] - h) < 1 and abs(png.shape[1] - w) < 1, (png.shape, h, w)


def reddish(color) -> bool:
    r, _, b = to_rgb(color)
    return r > b


@pytest.fixture(autouse=True)
def close_figures():
    """The pictures are pyplot figures, closed by whoever made them: here, after each test."""
    yield
    plt.close("all")


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, glider_plugins, glider_plugins.visualization; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- heat map ---------------------------------------------------------------------------------


def test_heatmap_shows_the_pairwise_matrix_with_feature_names():
    local = make_local()
    fig, ax = vis.plot_pairwise_heatmap(local)
    assert isinstance(fig, Figure) and ax is fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), local.pairwise())
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    assert len(fig.axes) == 2  # the colour bar
    assert sorted(t.get_text() for t in ax.texts) == sorted(["1.2", "1.2", "0.8", "0.8", "0.3", "0.3"])


def test_heatmap_from_a_matrix_into_given_axes():
    fig, ax = plt.subplots()
    matrix = np.array([[0.0, -0.5], [-0.5, 0.0]])
    out, out_ax = vis.plot_pairwise_heatmap(matrix, ["a", "b"], ax=ax)
    assert out is fig and out_ax is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
    norm = ax.images[0].norm
    assert norm.vmin == -norm.vmax == -0.5  # signed scale centred at zero
    plt.close(fig)


@pytest.mark.parametrize(
    ("matrix", "names", "culprit"),
    [
        (np.zeros((2, 3)), None, "local_or_matrix"),
        (np.zeros((2, 2, 2)), None, "local_or_matrix"),
        (np.array([[0.0, 1.0], [0.0, 0.0]]), None, "symmetric"),
        (np.zeros((2, 2)), ["a", "b", "c"], "feature_names"),
    ],
)
def test_heatmap_rejects_bad_input(matrix, names, culprit):
    with pytest.raises(InputError, match=culprit):
        vis.plot_pairwise_heatmap(matrix, names)


# --- ranked interactions ----------------------------------------------------------------------


def test_ranking_bars_follow_the_interactions_with_main_effects_beside():
    local = make_local()
    fig, (ax_int, ax_main) = vis.plot_interactions(local, top_k=3)
    assert fig.axes[:2] == [ax_int, ax_main] and len(fig.axes) == 3  # + the main effects' colour bar
    widths = [bar.get_width() for bar in ax_int.patches]
    assert widths == [1.2, 0.8, 0.5]
    tops = [bar.get_y() for bar in ax_int.patches]
    assert all(a < b for a, b in zip(tops, tops[1:]))  # y axis inverted: first bar drawn on top
    assert ax_int.yaxis_inverted()
    assert [t.get_text() for t in ax_int.get_yticklabels()] == [
        "age x gender", "occupation x genre", "age x occupation x genre"]
    # main effects of the features in those interactions, in order of first appearance
    assert [t.get_text() for t in ax_main.get_yticklabels()] == ["age", "gender", "occupation", "genre"]
    effects = [bar.get_width() for bar in ax_main.patches]
    np.testing.assert_allclose(effects, [0.9, -0.4, 0.2, 0.6])
    for bar, effect in zip(ax_main.patches, effects):
        assert reddish(bar.get_facecolor()) == (effect > 0)


def test_ranking_into_one_axes_and_without_interactions():
    fig, ax = plt.subplots()
    assert vis.plot_interactions(make_local(), top_k=10, ax=ax) == (fig, (ax, None))
    assert len(ax.patches) == 4  # all there are
    plt.close(fig)
    empty = LocalInteractions([], np.array([0.1, -2.0, 0.5]), np.zeros((3, 3)))
    fig, (ax_int, ax_main) = vis.plot_interactions(empty, top_k=2)
    assert "no interactions found" in [t.get_text() for t in ax_int.texts]
    assert [t.get_text() for t in ax_main.get_yticklabels()] == ["x1", "x2"]  # largest |effect|


@pytest.mark.parametrize("top_k", [0, -1, 1.5, True])
def test_top_k_must_be_a_positive_integer(top_k):
    with pytest.raises(InputError, match="top_k"):
        vis.plot_interactions(make_local(), top_k=top_k)


def test_ranking_rejects_a_batch_result():
    res = AttributionResult([make_local(), make_local()], feature_names=NAMES)
    with pytest.raises(InputError, match=r"res\[i\]"):
        vis.plot_interactions(res)


# --- image overlay ----------------------------------------------------------------------------


def block_mask(h=32, w=32, size=8) -> np.ndarray:
    """Square superpixels: ids 0..15 on a 4 x 4 grid."""
    rows, cols = np.indices((h, w)) // size
    return rows * (w // size) + cols


def image_local(groups, p=16):
    return LocalInteractions([(g, 1.0 / (k + 1)) for k, g in enumerate(groups)], np.zeros(p), np.zeros((p, p)))


def test_overlay_changes_exactly_the_outlined_boundaries():
    rgb = np.random.default_rng(0).uniform(0.2, 0.8, size=(32, 32, 3))
    mask = block_mask()
    groups = [(0, 1), (10, 15)]
    _, ax = vis.plot_image_interactions(np.moveaxis(rgb, -1, 0), mask[None, None], image_local(groups),
                                        top_k=2, fill_alpha=0.0, thickness=1)
    shown = ax.images[0].get_array()
    changed = np.any(np.abs(shown - rgb) > 1e-9, axis=-1)
    expected = np.zeros_like(changed)
    for group in groups:
        expected |= find_boundaries(np.isin(mask, group), mode="inner")
    np.testing.assert_array_equal(changed, expected)
    outline = shown[expected & np.isin(mask, groups[0])]
    assert len(outline) == 23  # bottom row and right column of the 8 x 16 block (not the image edge)
    np.testing.assert_allclose(outline, np.broadcast_to(to_rgb(vis.GROUP_COLORS[0]), outline.shape))
    assert len(ax.get_legend().get_texts()) == 2


@pytest.mark.parametrize("layout", ["hwc_uint8", "gray", "chw_normalised", "torch_batch"])
def test_overlay_accepts_image_layouts_and_tints_only_the_sets(layout):
    rng = np.random.default_rng(1)
    base = rng.integers(40, 200, size=(32, 32, 3)).astype(np.uint8)
    image = {
        "hwc_uint8": base,
        "gray": base[:, :, 0],
        "chw_normalised": (np.moveaxis(base, -1, 0) - 128.0) / 50.0,
        "torch_batch": pytest.importorskip("torch").as_tensor(np.moveaxis(base, -1, 0)[None] / 255.0),
    }[layout]
    mask = block_mask()
    _, ax = vis.plot_image_interactions(image, mask, image_local([(5, 6)]), top_k=3)
    shown = ax.images[0].get_array()
    assert shown.shape == (32, 32, 3)
    assert shown.min() >= 0.0 and shown.max() <= 1.0
    inside = np.isin(mask, (5, 6))
    _, reference = vis.plot_image_interactions(image, mask, image_local([(5, 6)]), fill_alpha=0.0)
    untouched = reference.images[0].get_array()
    np.testing.assert_allclose(shown[~inside], untouched[~inside])
    interior = inside & ~find_boundaries(inside, mode="inner")  # default outline: 1 px at 32 x 32
    assert np.all(np.abs(shown[interior] - untouched[interior]).sum(-1) > 0)


@pytest.mark.parametrize(
    ("image", "mask", "culprit"),
    [
        (np.zeros((3, 32, 30)), block_mask(), "image"),
        (np.zeros((32, 32, 3)), block_mask()[None, :16], "image"),
        (np.zeros((32, 32, 3)), np.stack([block_mask(), block_mask().T, block_mask()]), "feature_mask"),
        (np.zeros((32, 32, 3)), block_mask() + 1, "feature_mask"),
        (np.zeros((32, 32, 3)), block_mask() + 0.5, "feature_mask"),
    ],
)
def test_overlay_rejects_mismatched_inputs(image, mask, culprit):
    with pytest.raises(InputError, match=culprit):
        vis.plot_image_interactions(image, mask, image_local([(0, 1)]))


# --- text ------------------------------------------------------------------------------------

WORDS = ["this", "is", "not", "good", "<b>&</b>"]


def text_local():
    main = np.array([0.0, 0.05, -0.3, 0.8, -0.2])
    return LocalInteractions([((2, 3), 1.1), ((0, 4), 0.4)], main, np.zeros((5, 5)), feature_names=WORDS)


def word_spans(snippet: str) -> list[tuple[float, str]]:
    """(main effect, background colour) of every word span."""
    pattern = (r'<span class="glider-word" data-feature="\d+" data-effect="([^"]+)" title="[^"]*" '
               r'style="background-color:(#[0-9a-f]{6});')
    return [(float(effect), color) for effect, color in re.findall(pattern, snippet)]


class _TagBalance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag


def test_text_html_escapes_words_colours_by_sign_and_marks_groups(tmp_path):
    snippet = vis.text_interactions_html(WORDS, text_local(), top_k=1, save=tmp_path / "t.html")
    assert isinstance(snippet, str) and snippet._repr_html_() == snippet
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in snippet and "<b>&" not in snippet
    spans = word_spans(snippet)
    assert len(spans) == 5
    for (effect, color), expected in zip(spans, [0.0, 0.05, -0.3, 0.8, -0.2]):
        assert effect == pytest.approx(expected)
        if effect:
            assert reddish(color) == (effect > 0)
    marked = re.findall(r'>(\w+)<sup class="glider-group" data-group="1"', snippet)
    assert marked == ["not", "good"]
    assert 'data-group="2"' not in snippet  # top_k=1
    assert "not x good" in snippet
    parser = _TagBalance()
    parser.feed(snippet)
    assert parser.stack == []
    assert (tmp_path / "t.html").read_text(encoding="utf-8").count('class="glider-word"') == 5


def test_text_rejects_words_that_do_not_match_the_features():
    with pytest.raises(InputError, match="words"):
        vis.text_interactions_html(WORDS[:3], text_local())
    with pytest.raises(InputError, match="words"):
        vis.plot_text_interactions("this is not good", text_local())


def test_text_figure_draws_words_in_effect_colours_with_group_underlines(tmp_path):
    fig, ax = vis.plot_text_interactions(WORDS, text_local(), top_k=2, save=tmp_path / "t.png")
    words = [t for t in ax.texts if t.get_gid() == "glider-word"]
    assert [t.get_text() for t in words] == WORDS
    for text, effect in zip(words, text_local().main_effects):
        if effect:
            assert reddish(text.get_bbox_patch().get_facecolor()) == (effect > 0)
    first = [line for line in ax.lines if line.get_gid() == "glider-group-1"]
    second = [line for line in ax.lines if line.get_gid() == "glider-group-2"]
    assert len(first) == 2 and len(second) == 2
    assert to_rgb(first[0].get_color()) == to_rgb(vis.GROUP_COLORS[0])
    png = mpimg.imread(tmp_path / "t.png")
    assert_png_size(png, fig, dpi=150)


def test_long_text_wraps_onto_more_lines():
    words = [f"word{i}" for i in range(60)]
    local = LocalInteractions([((0, 59), 1.0)], np.linspace(-1, 1, 60), np.zeros((60, 60)))
    short, _ = vis.plot_text_interactions(words[:3], LocalInteractions([], np.ones(3), np.zeros((3, 3))))
    long, ax = vis.plot_text_interactions(words, local, width=6.0)
    assert long.get_size_inches()[1] > 1.5 * short.get_size_inches()[1]
    ys = {round(t.get_position()[1], 6) for t in ax.texts if t.get_gid() == "glider-word"}
    assert len(ys) > 3


# --- GLIDER: global interactions and the AUC table --------------------------------------------


def global_table() -> pd.DataFrame:
    return pd.DataFrame({
        "features": [(2, 4), (0, 1), (1, 3), (0, 1, 2)],
        "names": ["occupation x genre", "age x gender", "gender x zip", "age x gender x occupation"],
        "order": [2, 2, 2, 3],
        "count": [31, 40, 9, 5],
        "frequency": [0.62, 0.8, 0.18, 0.1],
        "mean_strength": [0.8, 1.0, 0.3, 0.2],
    })


def test_global_interactions_sorted_by_frequency():
    _, ax = vis.plot_global_interactions(global_table(), top_k=3)
    assert [bar.get_width() for bar in ax.patches] == [0.8, 0.62, 0.18]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["age x gender", "occupation x genre", "gender x zip"]
    # the drawn frequency first, then the count it comes from (N = count / frequency = 50)
    assert [t.get_text() for t in ax.texts] == ["80% (40 of 50)", "62% (31 of 50)", "18% (9 of 50)"]
    assert ax.get_xlabel() == "frequency (share of the 50 explained instances)"


def test_global_interactions_from_an_object_with_to_dataframe():
    class FakeGlobal:  # the interface of GlobalInteractions that the plot uses
        n_instances = 50

        def to_dataframe(self):
            return global_table().drop(columns=["names", "count"])

    _, ax = vis.plot_global_interactions(FakeGlobal())
    assert "50 instances" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "0 x 1"


def test_global_interactions_highlight_the_kept_crosses():
    from matplotlib.colors import to_hex

    from glider_plugins.visualization.glider import KEPT_COLOR

    _, ax = vis.plot_global_interactions(global_table(), top_k=4, highlight=[(4, 2), (0, 1, 2)])
    colours = [to_hex(bar.get_facecolor()) for bar in ax.patches[:4]]  # most frequent first: (0,1), (2,4), (1,3), (0,1,2)
    assert colours[1] == colours[3] == KEPT_COLOR and KEPT_COLOR not in (colours[0], colours[2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["kept", "not kept"]
    with pytest.raises(InputError, match="highlight: needs the interactions' feature ids"):
        vis.plot_global_interactions(global_table().drop(columns=["features"]), highlight=[(0, 1)])


def test_global_interactions_reject_a_table_without_frequency():
    with pytest.raises(InputError, match="frequency"):
        vis.plot_global_interactions(global_table().drop(columns=["frequency"]))
    with pytest.raises(InputError, match="global_or_dataframe"):
        vis.plot_global_interactions([("a", 1)])


def auc_table() -> pd.DataFrame:
    rows = [(m, v, 0.78 + 0.004 * k + 0.01 * i, 0.001)
            for i, m in enumerate(["WideDeep", "DeepFM"])
            for k, v in enumerate(["baseline", "+crosses", "+random", "+oracle"])]
    return pd.DataFrame(rows, columns=["model", "variant", "auc_mean", "auc_std"])


def test_auc_table_as_grouped_bars_with_error_bars(tmp_path):
    table = auc_table()
    fig, ax = vis.plot_auc_table(table, save=tmp_path / "auc.png")
    bars = [c for c in ax.containers if hasattr(c, "patches")]
    assert [c.get_label() for c in bars] == ["baseline", "+crosses", "+random", "+oracle"]
    for container in bars:
        heights = [p.get_height() for p in container.patches]
        np.testing.assert_allclose(heights, table[table.variant == container.get_label()].auc_mean)
        assert container.errorbar is not None
    assert [t.get_text() for t in ax.get_xticklabels()] == ["WideDeep", "DeepFM"]
    assert ax.get_ylim()[0] > 0.7  # differences of 0.004 stay visible
    png = mpimg.imread(tmp_path / "auc.png")
    assert_png_size(png, fig, dpi=150)


@pytest.mark.parametrize(
    ("table", "culprit"),
    [
        (auc_table().drop(columns=["auc_mean"]), "auc_mean"),
        (pd.concat([auc_table(), auc_table()]), "several rows"),
        (auc_table().iloc[:0], "no rows"),
        ({"model": ["a"]}, "DataFrame"),
    ],
)
def test_auc_table_rejects_bad_tables(table, culprit):
    with pytest.raises(InputError, match=culprit):
        vis.plot_auc_table(table)


# --- saving, and a result from a real attribution ---------------------------------------------


@pytest.mark.parametrize("kind", ["heatmap", "ranking", "image", "text", "global"])
def test_save_writes_a_png_of_the_figure_size(tmp_path, kind):
    path = tmp_path / "sub" / f"{kind}.png"
    local = make_local()
    fig, _ = {
        "heatmap": lambda: vis.plot_pairwise_heatmap(local, save=path),
        "ranking": lambda: vis.plot_interactions(local, save=path),
        "image": lambda: vis.plot_image_interactions(np.ones((32, 32)), block_mask(),
                                                     image_local([(1, 2)]), save=path),
        "text": lambda: vis.plot_text_interactions(NAMES, local, save=path),
        "global": lambda: vis.plot_global_interactions(global_table(), save=path),
    }[kind]()
    png = mpimg.imread(path)
    assert_png_size(png, fig, dpi=150)
    assert png[..., :3].std() > 0  # not blank
    again = vis.save_figure(fig, tmp_path / "again.png", dpi=50)
    assert_png_size(mpimg.imread(again), fig, dpi=50)


def test_pictures_of_a_real_attribution():
    from glider_plugins import InteractionAttribution

    def model(x):  # planted interaction between "price" and "discount"
        return 3.0 * x[:, 0] * x[:, 1] + x[:, 2] - x[:, 3]

    names = ["price", "discount", "brand", "shipping", "colour"]
    res = InteractionAttribution(model, detector="archdetect").attribute_interactions(
        np.ones((1, 5)), baselines=0.0, seed=0, feature_names=names)
    _, (ax_int, ax_main) = vis.plot_interactions(res, top_k=3)  # a result of one instance is taken as res[0]
    assert ax_int.get_yticklabels()[0].get_text() == "price x discount"
    main_bars = {t.get_text(): bar.get_width() for t, bar in zip(ax_main.get_yticklabels(), ax_main.patches)}
    assert set(main_bars) == {"price", "discount"}
    _, heat = vis.plot_pairwise_heatmap(res[0])
    np.testing.assert_array_equal(heat.images[0].get_array(), res[0].pairwise())
    snippet = vis.text_interactions_html(names, res[0], top_k=1)
    assert re.findall(r'>(\w+)<sup class="glider-group" data-group="1"', snippet) == ["price", "discount"]
