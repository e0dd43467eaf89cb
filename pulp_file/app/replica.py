"""What replication from an upstream Pulp does for file distributions.

An upstream file distribution serves a publication (or its repository's latest one), whose
``PULP_MANIFEST`` (or another manifest name) lists every file: the downstream remote points at
that manifest below the distribution's ``base_url``, the repository mirrors it and publishes each
new version with the same manifest name, and the downstream distribution serves the repository.
"""

from pulp_file.app.models import FileDistribution, FilePublication, FileRemote, FileRepository
from pulpcore.plugin.replica import Replicator


class FileReplicator(Replicator):
    distribution_endpoint = "distributions/file/file/"
    remote_model = FileRemote
    repository_model = FileRepository
    distribution_model = FileDistribution

    def source_url(self, distribution: dict) -> str | None:
        base_url = distribution.get("base_url")
        if distribution.get("publication"):
            served = self.client.get_json(self.client.url_of(distribution["publication"]))
        elif distribution.get("repository"):
            served = self.client.get_json(self.client.url_of(distribution["repository"]))
        else:
            return None
        manifest = served.get("manifest") if isinstance(served, dict) else None
        if not base_url or not manifest:
            return None
        return f"{base_url.rstrip('/')}/{manifest}"

    def repository_fields(self, distribution: dict, url: str) -> dict:
        return {"manifest": url.rsplit("/", 1)[1], "autopublish": False}

    def sync_and_serve(self, remote, repository) -> None:
        from pulp_file.app.tasks.publishing import publish
        from pulp_file.app.tasks.synchronizing import synchronize

        synchronize(str(remote.pk), str(repository.pk), mirror=True)
        version = repository.latest_version()
        published = FilePublication.objects.filter(
            repository_version=version, complete=True, manifest=repository.manifest
        )
        if version is not None and not published.exists():
            publish(str(version.pk), manifest=repository.manifest)


REPLICATORS = [FileReplicator]
