"""ArtifactDistribution: Pulp's core distribution type for serving artifacts by storage path.

It is read-only through the REST API (Pulp creates these itself; none can be made with a POST).
"""

from pulpcore.app.models.publication import Distribution


class ArtifactDistribution(Distribution):
    """A distribution of the ``core.artifact`` type."""

    TYPE = "artifact"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
