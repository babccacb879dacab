"""Pictures of interaction results: matplotlib figures and HTML, one kind of picture per module.

Results never draw themselves; these functions take them (``res[i]``, a global result) and
return ``(fig, ax)``, as Captum's and shapiq's plots do (``plot_interactions``: ``(fig, (ax,
ax_main_effects))``; the text picture also has an HTML form). Every plotting function takes
``ax=`` to draw into an existing axes, ``save=path`` to write the picture too (or call
:func:`save_figure`), and ``show=True`` to call ``plt.show()``. New figures are pyplot figures:
``plt.show()`` in a script and a notebook's inline backend display them, and whoever makes many in
a loop closes each (``plt.close(fig)``). A new figure is sized to its labels, so long feature names
are shown whole.

- :func:`plot_pairwise_heatmap`: heat map of ``res[i].pairwise()`` with feature names;
- :func:`plot_interactions`: the top interactions as ranked bars, main effects beside;
- :func:`plot_image_interactions`: the top interacting superpixel sets outlined on the image;
- :func:`text_interactions_html`: words coloured by main effect, groups underlined (HTML);
- :func:`plot_text_interactions`: the same as a figure (PNG);
- :func:`plot_global_interactions`: the interactions of ``GlobalInteractions.top(k)`` by frequency;
- :func:`plot_auc_table`: AUC by model and variant as grouped bars with error bars;
- :func:`save_figure`: write a figure to a file.

Signed values (main effects, pairwise strengths) use one colour map, :data:`SIGNED_CMAP`
(red up, blue down, white at zero). Importing this package does not import matplotlib; the
first use of a function does (``pip install matplotlib scikit-image`` for the image overlay).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "GROUP_COLORS",
    "SIGNED_CMAP",
    "InteractionHTML",
    "plot_auc_table",
    "plot_global_interactions",
    "plot_image_interactions",
    "plot_interactions",
    "plot_pairwise_heatmap",
    "plot_text_interactions",
    "save_figure",
    "text_interactions_html",
]

_LAZY = {
    "GROUP_COLORS": "._common",
    "SIGNED_CMAP": "._common",
    "save_figure": "._common",
    "plot_pairwise_heatmap": ".heatmap",
    "plot_interactions": ".ranking",
    "plot_image_interactions": ".image",
    "InteractionHTML": ".text",
    "text_interactions_html": ".text",
    "plot_text_interactions": ".text_figure",
    "plot_global_interactions": ".glider",
    "plot_auc_table": ".glider",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
