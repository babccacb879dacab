"""Pictures from scripts and notebooks: (fig, ax), pyplot figures, show=, and layouts that fit.

Every label is checked on the drawn figure (Agg): inside the figure, not overlapping another.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from glider_plugins import visualization as vis  # noqa: E402
from glider_plugins.errors import InputError  # noqa: E402
from glider_plugins.results import GlobalInteractions, LocalInteractions  # noqa: E402

from .test_visualization import (  # noqa: E402
    WORDS,
    auc_table,
    block_mask,
    global_table,
    image_local,
    make_local,
    text_local,
)


@pytest.fixture(autouse=True)
def close_figures():
    """The pictures are pyplot figures, closed by whoever made them: here, after each test."""
    yield
    plt.close("all")


#: Long names of scikit-learn's breast-cancer data set (the picture must show them whole).
LONG = ["worst smoothness", "mean fractal dimension", "worst concave points", "texture error",
        "mean compactness", "worst symmetry"]


def long_local(scale=1.0):
    """Interactions among long names; ``scale`` 1e-4 gives main effects like 0.00025."""
    p = len(LONG)
    pairwise = np.zeros((p, p))
    pairwise[0, 1] = pairwise[1, 0] = 0.7
    interactions = [((0, 1), 0.7), ((0, 1, 2, 5), 0.5), ((2, 3), 0.3), ((3, 4, 5), 0.2)]
    main = scale * np.array([2.5, -1.6, 3.6, -0.3, 1.1, -2.6])
    return LocalInteractions([(f, scale * s) for f, s in interactions], main, pairwise, feature_names=LONG)


PLOTS = {  # name: (call with a given ax or None) -> (fig, ax or axes)
    "heatmap": lambda ax: vis.plot_pairwise_heatmap(long_local(), ax=ax),
    "ranking": lambda ax: vis.plot_interactions(long_local(), ax=ax),
    "image": lambda ax: vis.plot_image_interactions(np.ones((32, 32)), block_mask(), image_local([(1, 2)]), ax=ax),
    "global": lambda ax: vis.plot_global_interactions(global_table(), ax=ax),
    "auc": lambda ax: vis.plot_auc_table(auc_table(), ax=ax),
}


@pytest.mark.parametrize("kind", [*PLOTS, "text"])
def test_every_picture_returns_a_pyplot_figure_and_its_axes(kind):
    draw = PLOTS.get(kind, lambda ax: vis.plot_text_interactions(WORDS, text_local()))
    fig, axes = draw(None)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [fig.number]  # one figure, known to pyplot: plt.show() shows it
    drawn = [a for a in (axes if isinstance(axes, tuple) else (axes,)) if a is not None]
    assert drawn and all(isinstance(a, Axes) and a.figure is fig for a in drawn)
    assert drawn[0] is fig.axes[0]


@pytest.mark.parametrize("kind", PLOTS)
def test_every_picture_draws_into_a_given_axes(kind):
    fig, given = plt.subplots()
    out, axes = PLOTS[kind](given)
    assert out is fig and (axes[0] if isinstance(axes, tuple) else axes) is given
    assert given.has_data() and plt.get_fignums() == [fig.number]  # no other figure made


def test_show_must_be_a_bool_and_a_bad_one_leaves_no_figure_open():
    plt.close("all")
    for plot in (vis.plot_interactions, vis.plot_pairwise_heatmap):
        with pytest.raises(InputError, match="show"):
            plot(make_local(), show="yes")
    assert plt.get_fignums() == []  # checked before anything was drawn


def test_show_and_plt_show_display_the_picture_in_a_script(tmp_path):
    """A script on a real (recording) backend: show=True and a plain plt.show() both show it."""
    (tmp_path / "recording_backend.py").write_text(
        "from matplotlib._pylab_helpers import Gcf\n"
        "from matplotlib.backend_bases import FigureManagerBase\n"
        "from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas\n"
        "FigureManager = FigureManagerBase\n"
        "def show(*args, **kwargs):\n"
        "    print('shown', [len(m.canvas.figure.axes) for m in Gcf.get_all_fig_managers()])\n")
    script = (
        "import numpy as np, matplotlib.pyplot as plt\n"
        "from glider_plugins.results import LocalInteractions\n"
        "from glider_plugins.visualization import plot_interactions, plot_pairwise_heatmap\n"
        "local = LocalInteractions([((0, 1), 1.0)], np.array([0.5, -0.2]), np.array([[0, 1.0], [1.0, 0]]))\n"
        "plot_interactions(local, show=True)\n"
        "plt.close('all')\n"
        "fig, ax = plot_pairwise_heatmap(local)\n"
        "plt.show()\n")
    env = {**os.environ, "MPLBACKEND": "module://recording_backend",
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:2] == ["shown [3]", "shown [2]"]  # ranking + colour bar; heat map + colour bar


def visible_ticklabels(fig: Figure) -> list[tuple[object, object]]:
    """(axis, label) of every tick label drawn: non-empty, at a tick inside its axis' view."""
    labels = []
    for ax in (a for a in fig.axes if a.axison):
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for loc, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels()):
                if label.get_visible() and label.get_text() and low - 1e-9 <= loc <= high + 1e-9:
                    labels.append((axis, label))
    return labels


def rotated_apart(a, b, renderer) -> bool:
    """Two labels of one axis, both rotated alike: their parallel lines of text do not touch."""
    (xa, ya), (xb, yb) = (t.get_transform().transform(t.get_position()) for t in (a, b))
    gap = np.hypot(xb - xa, yb - ya) * abs(np.sin(np.radians(a.get_rotation())))
    height = max(renderer.get_text_width_height_descent(t.get_text(), t.get_fontproperties(), ismath=False)[1]
                 for t in (a, b))
    return gap >= height


def assert_laid_out(fig: Figure) -> list[str]:
    """Tick labels, titles, axis labels and texts inside the figure; no two tick labels overlap."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = visible_ticklabels(fig)
    others = [t for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts) if t.get_text()]
    for text in [label for _, label in labels] + others:
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 - 0.5 <= box.x0 and box.x1 <= fig.bbox.x1 + 0.5, f"{text.get_text()!r} cut off"
        assert fig.bbox.y0 - 0.5 <= box.y0 and box.y1 <= fig.bbox.y1 + 0.5, f"{text.get_text()!r} cut off"
    for i, (axis_a, a) in enumerate(labels):
        for axis_b, b in labels[i + 1:]:
            if axis_a is axis_b and a.get_rotation() % 90:
                assert rotated_apart(a, b, renderer), f"{a.get_text()!r} overlaps {b.get_text()!r}"
            else:
                assert not a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)), \
                    f"{a.get_text()!r} overlaps {b.get_text()!r}"
    return [label.get_text() for _, label in labels]


@pytest.mark.parametrize("scale", [1.0, 1e-4])
def test_ranking_shows_long_names_whole_and_its_ticks_apart(scale):
    fig, (ax_int, ax_main) = vis.plot_interactions(long_local(scale), top_k=4)
    assert_laid_out(fig)
    shown = [t.get_text().replace("\n", " ") for t in ax_int.get_yticklabels()]
    assert shown == ["worst smoothness x mean fractal dimension",
                     "worst smoothness x mean fractal dimension x worst concave points x worst symmetry",
                     "worst concave points x texture error", "texture error x mean compactness x worst symmetry"]
    assert [t.get_text() for t in ax_main.get_yticklabels()] == [LONG[i] for i in (0, 1, 2, 5, 3, 4)]


def test_ranking_is_tall_enough_for_many_main_effects():
    p = 30
    names = [f"{k} feature number {i}" for i, k in enumerate(["mean", "worst", "error"] * 10)]
    triples = [((3 * i, 3 * i + 1, 3 * i + 2), 1.0 - i / 20) for i in range(10)]  # 30 features in 10 rows
    local = LocalInteractions(triples, np.linspace(-1, 1, p), np.zeros((p, p)), feature_names=names)
    fig, (_, ax_main) = vis.plot_interactions(local, top_k=10)
    assert len(ax_main.patches) == 30
    assert_laid_out(fig)


def test_heatmap_and_global_show_long_names_whole():
    fig, ax = vis.plot_pairwise_heatmap(long_local())
    assert assert_laid_out(fig)[:len(LONG)] == LONG  # the x tick labels
    fig, ax = vis.plot_pairwise_heatmap(np.eye(2), LONG[:2])  # a small matrix: the title still fits
    assert assert_laid_out(fig)[:2] == LONG[:2]
    table = global_table().assign(names=["worst concave points x mean fractal dimension x worst smoothness",
                                         "mean compactness x worst symmetry", "texture error x worst smoothness",
                                         "a x b x c"])
    fig, ax = vis.plot_global_interactions(table, title="GLIDER's candidates (50 instances), the kept crosses highlighted")
    assert_laid_out(fig)
    assert ax.get_yticklabels()[1].get_text().replace("\n", " ") == table.names[0]


def test_global_draws_exactly_what_top_returns_and_says_what_it_draws():
    counts = {(0, 1): 40, (0, 1, 2): 30, (2, 3): 20, (3, 4): 12, (4, 5): 2}  # (4, 5): 4% < min_frequency
    g = GlobalInteractions(counts, {k: 1.0 for k in counts}, 50, ["a", "b", "c", "d", "e", "f"])
    for k, prune in [(3, True), (2, False), (10, True)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # top() warns when fewer than k are available
            top = g.top(k, prune=prune)
            _, ax = vis.plot_global_interactions(g, top_k=k, prune=prune)
        assert len(ax.patches) == len(top)
        assert [t.get_text() for t in ax.get_yticklabels()] == [" x ".join(g.names_of(s)) for s, _ in top]
        frequencies = [c / 50 for _, c in top]
        np.testing.assert_allclose([bar.get_width() for bar in ax.patches], frequencies)
        assert [t.get_text() for t in ax.texts] == [f"{f:.0%} ({c} of 50)" for f, (_, c) in zip(frequencies, top)]
        assert ax.get_xlabel().startswith("frequency")
        assert ax.xaxis.get_major_formatter()(0.5, 0) == "50%"  # the axis is in shares, like the bars
    assert (0, 1) not in [s for s, _ in g.top(3)]  # pruned: (0, 1, 2) replaces it, so the plot has no (0, 1)


def colorbar_norm(cax):
    """The scale a colour bar shows: its solids (a QuadMesh) carry the mapped norm."""
    (solids,) = [c for c in cax.collections if isinstance(c, QuadMesh)]
    return solids.norm


def test_text_and_ranking_have_colour_bars_of_the_main_effects():
    fig, ax = vis.plot_text_interactions(WORDS, text_local())
    assert len(fig.axes) == 2
    cax = fig.axes[1]
    norm = colorbar_norm(cax)
    assert norm.vmin == -norm.vmax == -0.8  # the words' scale: +-max |main effect|
    assert "main effect" in cax.get_xlabel()
    assert_laid_out(fig)
    fig, (_, ax_main) = vis.plot_interactions(make_local())
    norm = colorbar_norm(fig.axes[2])
    assert norm.vmax == 0.9 and norm.vmin == -0.9
