"""``python -m glider_plugins.cli``: the ``glider`` command."""

from __future__ import annotations

from .commands import main

raise SystemExit(main())
