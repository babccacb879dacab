"""Test data: a deliberately broken glider-plugins plugin. Never import this in real code."""
