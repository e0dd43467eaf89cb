"""App config of the file plugin; found by Django through INSTALLED_APPS."""

from pulpcore.plugin import PulpPluginAppConfig


class PulpFilePluginAppConfig(PulpPluginAppConfig):
    name = "pulp_file.app"
    label = "file"
    verbose_name = "Pulp file plugin"
    version = "3.49.0"
    python_package_name = "pulp_file"
    default = True
