"""A plugin that imports fine but whose registration hooks raise."""

from glider_plugins.plugins import hookimpl


@hookimpl
def glider_register_perturbations():
    raise RuntimeError("glider_plugin_broken.hook_fails: deliberately broken registration hook (test data)")


@hookimpl
def glider_register_detectors():
    raise RuntimeError("glider_plugin_broken.hook_fails: deliberately broken registration hook (test data)")
