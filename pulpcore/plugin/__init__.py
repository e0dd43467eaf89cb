"""The plugin API: the only part of pulpcore that plugins import."""

from pulpcore.app.apps import PulpPluginAppConfig

__all__ = ["PulpPluginAppConfig"]
