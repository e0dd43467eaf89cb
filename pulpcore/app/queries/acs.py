"""Which alternate content source offers which checksum: the one rule for syncs and the content app.

An ACS offers a file when the latest version of one of its paths' hidden repositories holds a
unit whose RemoteArtifact (recorded by the refresh, with the ACS's own remote) has that sha256.
The sync pipeline asks once per batch, the content app once per on-demand request; both try the
offers first and fall back to the repository's own remote. Models are imported inside the
function because ``pulpcore.app.models`` imports this package.
"""

from collections.abc import Iterable
from dataclasses import dataclass

_VIA = "content_artifact__content__version_memberships__"
_ACS = _VIA + "repository__acs_path__alternate_content_source__"


@dataclass(frozen=True)
class AcsOffer:
    """One place an ACS offers a file: download ``url`` with ``remote_id``'s settings."""

    sha256: str
    url: str
    remote_id: str
    acs_name: str


def acs_offers(sha256s: Iterable[str]) -> dict[str, list[AcsOffer]]:
    """Offers by sha256 for the given checksums (one query, whatever their number), each list in
    ACS name order; checksums nobody offers are absent."""
    from django.db.models import F

    from pulpcore.app.models import RemoteArtifact
    from pulpcore.app.queries.versions import latest_q

    wanted = sorted({s.lower() for s in sha256s if s})
    if not wanted:
        return {}
    rows = (
        RemoteArtifact.objects.filter(
            latest_q(_VIA), sha256__in=wanted, **{f"{_ACS}remote": F("remote")}
        )
        .values_list("sha256", "url", "remote_id", f"{_ACS}name")
        .distinct()
        .order_by(f"{_ACS}name", "url")
    )
    offers: dict[str, list[AcsOffer]] = {}
    for sha256, url, remote_id, name in rows:
        offers.setdefault(sha256, []).append(AcsOffer(sha256, url, str(remote_id), name))
    return offers


def any_acs_refreshed() -> bool:
    """Whether any ACS path has a hidden repository (else no sync needs to ask)."""
    from pulpcore.app.models.acs import AlternateContentSourcePath

    return AlternateContentSourcePath.objects.filter(repository__isnull=False).exists()
