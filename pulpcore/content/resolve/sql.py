"""The statements that resolve a content request, and the functions that run them.

They run in a database thread (see :mod:`.pool`). Which units a repository version holds comes
from :func:`pulpcore.app.queries.versions.membership_sql`, the same rule the API uses.
"""

import re
from dataclasses import replace

from django.conf import settings
from django.db import connection

from pulpcore.app.queries.acs import acs_offers
from pulpcore.app.queries.versions import membership_sql
from pulpcore.content.resolve.results import (
    Distro,
    Entry,
    Match,
    OnDemandInfo,
    RemoteSource,
    Resolution,
)

# Units of the served version: in RESOLVE_SQL the version comes from the ``src`` row, in
# LISTING_SQL from parameters.
_SERVED = membership_sql("src.repository_id", "src.version_number")
_LISTED = membership_sql("%(repo)s", "%(num)s")

RESOLVE_SQL = f"""
WITH d AS (
    SELECT pulp_id, base_path, content_guard_id, publication_id, repository_id,
           repository_version_id, substr(%(full)s, length(base_path) + 2) AS rel, pulp_type
    FROM core_distribution WHERE base_path = ANY(%(prefixes)s)
    ORDER BY length(base_path) DESC LIMIT 1
),
src AS (
    SELECT rv.pulp_id AS version_id, rv.number AS version_number, rv.repository_id,
           pub.pulp_id AS pub_id, COALESCE(pub.pass_through, false) AS pass_through
    FROM d
    JOIN LATERAL (
        SELECT v.pulp_id, v.number, v.repository_id FROM core_repositoryversion v
        WHERE v.complete AND v.pulp_id = COALESCE(
            (SELECT p.repository_version_id FROM core_publication p
             WHERE p.pulp_id = d.publication_id),
            d.repository_version_id,
            (SELECT v2.pulp_id FROM core_repositoryversion v2
             WHERE v2.repository_id = d.repository_id AND v2.complete
             ORDER BY v2.number DESC LIMIT 1))
    ) rv ON true
    LEFT JOIN LATERAL (
        (SELECT p.pulp_id, p.pass_through FROM core_publication p
         WHERE d.publication_id IS NOT NULL AND p.pulp_id = d.publication_id AND p.complete)
        UNION ALL
        (SELECT p.pulp_id, p.pass_through FROM core_publication p
         WHERE d.publication_id IS NULL AND p.repository_version_id = rv.pulp_id AND p.complete
         ORDER BY p.pulp_created DESC LIMIT 1)
        LIMIT 1
    ) pub ON true
),
m AS (
    SELECT * FROM (
        SELECT 0 AS prio, NULL::uuid AS ca_id, a.file, a.size, a.sha256, a.pulp_created
        FROM d, src, core_publishedmetadata pm JOIN core_artifact a ON a.pulp_id = pm.artifact_id
        WHERE pm.publication_id = src.pub_id AND pm.relative_path = d.rel
        UNION ALL
        SELECT 1, ca.pulp_id, a.file, COALESCE(a.size, ra.size), a.sha256, a.pulp_created
        FROM d, src, core_publishedartifact pa
        JOIN core_contentartifact ca ON ca.pulp_id = pa.content_artifact_id
        LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
        LEFT JOIN LATERAL (SELECT r.size FROM core_remoteartifact r
                           WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra
               ON a.pulp_id IS NULL
        WHERE pa.publication_id = src.pub_id AND pa.relative_path = d.rel
        UNION ALL
        SELECT 2, ca.pulp_id, a.file, COALESCE(a.size, ra.size), a.sha256, a.pulp_created
        FROM d, src, {_SERVED.joins}
        JOIN core_contentartifact ca ON ca.content_id = rc.content_id
        LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
        LEFT JOIN LATERAL (SELECT r.size FROM core_remoteartifact r
                           WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra
               ON a.pulp_id IS NULL
        WHERE ((src.pub_id IS NULL AND d.publication_id IS NULL) OR src.pass_through)
          AND {_SERVED.condition}
          AND ca.relative_path = d.rel
    ) u
    WHERE %(want_file)s
    ORDER BY prio LIMIT 1
)
SELECT d.pulp_id, d.base_path, d.content_guard_id, d.publication_id,
       src.version_id, src.version_number, src.repository_id, src.pub_id, src.pass_through,
       m.prio, m.ca_id, m.file, m.size, m.sha256, m.pulp_created, d.pulp_type
FROM d LEFT JOIN src ON true LEFT JOIN m ON true
"""

# Every file below a directory prefix of the served source.
LISTING_SQL = f"""
SELECT pm.relative_path, a.size, a.pulp_created
FROM core_publishedmetadata pm JOIN core_artifact a ON a.pulp_id = pm.artifact_id
WHERE pm.publication_id = %(pub)s AND left(pm.relative_path, %(plen)s) = %(prefix)s
UNION ALL
SELECT pa.relative_path, COALESCE(a.size, ra.size), a.pulp_created
FROM core_publishedartifact pa
JOIN core_contentartifact ca ON ca.pulp_id = pa.content_artifact_id
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN LATERAL (SELECT size FROM core_remoteartifact r
                   WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra ON a.pulp_id IS NULL
WHERE pa.publication_id = %(pub)s AND left(pa.relative_path, %(plen)s) = %(prefix)s
UNION ALL
SELECT ca.relative_path, COALESCE(a.size, ra.size), a.pulp_created
FROM {_LISTED.joins}
JOIN core_contentartifact ca ON ca.content_id = rc.content_id
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN LATERAL (SELECT size FROM core_remoteartifact r
                   WHERE r.content_artifact_id = ca.pulp_id LIMIT 1) ra ON a.pulp_id IS NULL
WHERE %(use_version)s AND {_LISTED.condition}
  AND left(ca.relative_path, %(plen)s) = %(prefix)s
"""

BASE_PATHS_SQL = """
SELECT base_path FROM core_distribution
WHERE NOT COALESCE(hidden, false) AND left(base_path, %(plen)s) = %(prefix)s
  AND NOT (%(hide_guarded)s AND content_guard_id IS NOT NULL)
"""

# An artifact distribution (``core.artifact``) serves any stored artifact by its UUID, as Pulp's
# does.
ARTIFACT_SQL = """
SELECT file, size, sha256, pulp_created FROM core_artifact WHERE pulp_id = %(pk)s
"""
ARTIFACT_DISTRIBUTION_TYPE = "core.artifact"
# Only the canonical form: one URL per artifact (no braces, URNs or hyphen-less spellings).
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

ON_DEMAND_SQL = """
SELECT a.file, ra.remote_id, ra.url, ra.size, ra.md5, ra.sha1, ra.sha224, ra.sha256, ra.sha384,
       ra.sha512, r.policy
FROM core_contentartifact ca
LEFT JOIN core_artifact a ON a.pulp_id = ca.artifact_id
LEFT JOIN core_remoteartifact ra ON ra.content_artifact_id = ca.pulp_id
LEFT JOIN core_remote r ON r.pulp_id = ra.remote_id
WHERE ca.pulp_id = %(ca)s
ORDER BY ra.pulp_created
"""


# The resolution statement takes several times longer to plan than to run, so each connection
# prepares it once (a cold request then costs one EXECUTE of a cached plan).
_PREPARED_NAME = "pulp_content_resolve_v2"
_PREPARE_SQL = f"PREPARE {_PREPARED_NAME}(text[], text, boolean) AS " + RESOLVE_SQL.replace(
    "%(prefixes)s", "$1"
).replace("%(full)s", "$2").replace("%(want_file)s", "$3").replace("%%", "%")


def _execute_resolve(params: tuple) -> list[tuple]:
    connection.ensure_connection()
    raw = connection.connection
    with connection.cursor() as cur:
        # Remember on the Django wrapper which raw connection holds the statement: a reconnect
        # gives a new raw connection object, which then prepares again.
        if getattr(connection, "_pulp_content_prepared", None) is not raw:
            cur.execute(_PREPARE_SQL)
            connection._pulp_content_prepared = raw
        cur.execute(f"EXECUTE {_PREPARED_NAME}(%s, %s, %s)", params)
        return cur.fetchall()


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def distro_from_row(row: tuple) -> Distro:
    """The distribution part of a ``RESOLVE_SQL`` row (its first nine columns and the type).

    This is the one place a request's distribution is read, so whatever else decides how a
    distribution serves (e.g. its content guard) is added to ``RESOLVE_SQL``'s ``d``/``src`` and
    here.
    """
    return Distro(
        pk=str(row[0]),
        base_path=row[1],
        content_guard_id=str(row[2]) if row[2] else None,
        version_id=str(row[4]) if row[4] else None,
        version_number=row[5],
        repository_id=str(row[6]) if row[6] else None,
        publication_id=str(row[7]) if row[7] else None,
        pass_through=bool(row[8]),
        explicit_publication=row[3] is not None,
        pulp_type=row[15] or "",
    )


def resolve_sync(segments: tuple[str, ...], want_dir: bool) -> Resolution:
    """Resolve a request path below the content prefix (runs in a DB thread)."""
    full = "/".join(segments)
    prefixes = ["/".join(segments[:i]) for i in range(len(segments), 0, -1)]
    want_file = bool(segments) and not want_dir
    rows = _execute_resolve((prefixes, full, want_file))
    if not rows:
        return _root_listing(full)
    row = rows[0]
    distro = distro_from_row(row)
    rel = full[len(distro.base_path) + 1 :]
    if distro.pulp_type == ARTIFACT_DISTRIBUTION_TYPE:
        return _artifact(distro, rel)
    if row[9] is not None:
        match = Match(
            relative_path=rel,
            content_artifact_id=str(row[10]) if row[10] else None,
            artifact_file=row[11],
            size=row[12],
            sha256=row[13],
            created=row[14],
        )
        return Resolution(distro=distro, match=match)
    entries = _listing(distro, rel + "/" if rel else "")
    if entries is None:
        return Resolution(distro=distro)
    return Resolution(distro=distro, listing=entries, listing_is_dir=True)


def _artifact(distro: Distro, rel: str) -> Resolution:
    """What an artifact distribution serves at ``rel``: the artifact whose UUID it is, else
    nothing (no listing either: it does not enumerate the artifacts it can serve)."""
    pk = rel.rstrip("/")
    if not CANONICAL_UUID.fullmatch(pk):
        return Resolution(distro=distro)
    rows = _fetch(ARTIFACT_SQL, {"pk": pk})
    if not rows:
        return Resolution(distro=distro)
    file, size, sha256, created = rows[0]
    match = Match(
        relative_path=pk,
        content_artifact_id=None,
        artifact_file=file,
        size=size,
        sha256=sha256,
        created=created,
    )
    return Resolution(distro=distro, match=match)


def _listing(distro: Distro, prefix: str) -> tuple[Entry, ...] | None:
    """Immediate children of ``prefix`` in what ``distro`` serves; None if no such directory."""
    if distro.version_id is None:
        return () if prefix == "" else None
    use_version = (distro.publication_id is None and not distro.explicit_publication) or (
        distro.pass_through
    )
    rows = _fetch(
        LISTING_SQL,
        {
            "pub": distro.publication_id,
            "prefix": prefix,
            "plen": len(prefix),
            "use_version": use_version,
            "repo": distro.repository_id,
            "num": distro.version_number,
        },
    )
    if not rows and prefix:
        return None
    files: dict[str, Entry] = {}
    dirs: set[str] = set()
    for path, size, created in rows:
        rest = path[len(prefix) :]
        if "/" in rest:
            dirs.add(rest.split("/", 1)[0])
        elif rest and rest not in files:
            files[rest] = Entry(rest, False, size, created)
    entries = [Entry(d, True) for d in sorted(dirs)]
    entries += [files[n] for n in sorted(files) if n not in dirs]
    return tuple(entries)


def _root_listing(full: str) -> Resolution:
    """Outside any distribution: list the base paths below ``full`` (content root included)."""
    prefix = full + "/" if full else ""
    hide_guarded = settings.HIDE_GUARDED_DISTRIBUTIONS
    rows = _fetch(
        BASE_PATHS_SQL, {"prefix": prefix, "plen": len(prefix), "hide_guarded": hide_guarded}
    )
    if not rows and prefix:
        return Resolution()
    names = sorted({bp[len(prefix) :].split("/", 1)[0] for (bp,) in rows})
    return Resolution(listing=tuple(Entry(n, True) for n in names), listing_is_dir=True)


def on_demand_sync(content_artifact_id: str) -> OnDemandInfo:
    """Current artifact (if stored meanwhile) and remote sources of a content artifact."""
    rows = _fetch(ON_DEMAND_SQL, {"ca": content_artifact_id})
    info = OnDemandInfo(artifact_file=rows[0][0] if rows else None)
    names = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
    for row in rows:
        if row[1] is None:
            continue
        digests = {n: v for n, v in zip(names, row[4:10], strict=True) if v}
        info.sources.append(
            RemoteSource(
                remote_id=str(row[1]), url=row[2], size=row[3], digests=digests, policy=row[10]
            )
        )
    if info.artifact_file is None and info.sources:
        alternates = _alternates(info.sources[0])
        # The unit may also be in an ACS's hidden repository: its RemoteArtifact then is one of
        # the rows above, and belongs first, as an alternate.
        offered = {(a.remote_id, a.url) for a in alternates}
        own = [s for s in info.sources if (s.remote_id, s.url) not in offered]
        if own:
            alternates = [replace(a, policy=own[0].policy) for a in alternates]
        info.sources = alternates + own
    return info


def _alternates(own: RemoteSource) -> list[RemoteSource]:
    """What alternate content sources offer for this file (the rule in ``queries.acs``), to try
    before the content's own remotes, keeping the own remote's policy (store or stream)."""
    sha256 = own.digests.get("sha256")
    if not sha256:
        return []
    return [
        RemoteSource(
            remote_id=offer.remote_id,
            url=offer.url,
            size=own.size,
            digests=own.digests,
            policy=own.policy,
            alternate=offer.acs_name,
        )
        for offer in acs_offers([sha256]).get(sha256.lower(), [])
    ]


def artifact_abspath(name: str) -> str | None:
    """The stored file ``name`` as an absolute path; None when storage is an object store."""
    from pulpcore.app.storage import local_path

    return local_path(name)
