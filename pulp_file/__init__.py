"""pulp_file: the file content type, written against ``pulpcore.plugin`` only."""

# Django finds PulpFilePluginAppConfig in pulp_file.app (default = True).
