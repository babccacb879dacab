"""A plugin module that cannot be imported (as if a dependency were missing)."""

raise RuntimeError("glider_plugin_broken.import_fails is deliberately broken (test data)")
