"""Automatic hooks, one module per thing hooked; each installs when its target is imported."""
