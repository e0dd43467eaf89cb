"""UpstreamPulp: another Pulp whose file distributions this one replicates.

The API credentials and the client key are secrets: stored encrypted (EncryptedTextField) and
never shown (write-only fields, reported only through ``hidden_fields``).
"""

from django.db import models

from pulpcore.app.models.base import BaseModel
from pulpcore.app.models.fields import EncryptedTextField


class UpstreamPulp(BaseModel):
    """Where an upstream Pulp's REST API is and how to authenticate to it."""

    name = models.TextField(unique=True)
    base_url = models.TextField()
    api_root = models.TextField(default="pulp")
    domain = models.TextField(null=True)

    ca_cert = models.TextField(null=True)
    client_cert = models.TextField(null=True)
    client_key = EncryptedTextField(null=True)
    tls_validation = models.BooleanField(default=True)

    username = models.TextField(null=True)
    password = EncryptedTextField(null=True)

    pulp_label_select = models.TextField(null=True)

    # Read by the download factory, which the replication reuses to talk to the upstream's API:
    # one request at a time is plenty for paging through a distribution list.
    DEFAULT_DOWNLOAD_CONCURRENCY = 1
    DEFAULT_MAX_RETRIES = 2

    class Meta:
        permissions = [
            ("replicate_upstreampulp", "Can start a replication task"),
            ("manage_roles_upstreampulp", "Can manage roles on upstream pulps"),
        ]
