"""Every content guard type enforced by the real content app (real sockets, real PostgreSQL).

Certificates are generated per test (tests/certs.py); nginx's part (verifying the TLS client
certificate and forwarding it URL-encoded in X-CLIENT-CERT) is played by the test client.
"""

import base64
import json
import os
import time
import zlib
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pulp_certguard.app.models import RHSMCertGuard, X509CertGuard
from pulpcore.app.models import (
    CompositeContentGuard,
    ContentRedirectContentGuard,
    HeaderContentGuard,
)
from tests.certs import CA, V3_VERSION, encode_v3_payload, header, v3_extensions
from tests.unit.content_support import AppThread, add_files, distribute, make_repository

pytestmark = pytest.mark.django_db(transaction=True)

P = "/pulp/content/"
DATA = os.urandom(3000)


@pytest.fixture
def app():
    a = AppThread().start()
    a.wait_cache_ready()
    yield a
    a.stop()


@pytest.fixture
def dist():
    repo = make_repository()
    add_files(repo, {"pkg/a.bin": DATA, "b.txt": b"bee\n"})
    return distribute("guarded/repo", repository=repo)


def guard(dist, g):
    dist.content_guard = g
    dist.save()
    return g


def get(app, path="guarded/repo/pkg/a.bin", **headers):
    return requests.get(app.url(P + path), headers=headers, timeout=10)


def refused(r, word: str) -> bool:
    return r.status_code == 403 and word in r.text and DATA not in r.content


# --- header ---------------------------------------------------------------------------------------
def test_header_guard_allows_refuses_and_guards_listings(app, dist):
    guard(dist, HeaderContentGuard.objects.create(name="h", header_name="X-Key", header_value="s3"))
    r = get(app, **{"X-Key": "s3"})
    assert r.status_code == 200 and r.content == DATA
    assert refused(get(app, **{"X-Key": "wrong"}), "X-Key")
    assert refused(get(app), "missing")
    # directory listings and HEAD are guarded too
    assert get(app, "guarded/repo/").status_code == 403
    assert get(app, "guarded/repo/pkg/").status_code == 403
    assert get(app, "guarded/repo/pkg/", **{"X-Key": "s3"}).status_code == 200
    assert requests.head(app.url(P + "guarded/repo/b.txt")).status_code == 403


def test_header_guard_with_jq_filter(app, dist):
    guard(
        dist,
        HeaderContentGuard.objects.create(
            name="id",
            header_name="X-Identity",
            header_value="acme",
            jq_filter=".identity.org",
        ),
    )

    def identity(doc) -> str:
        return base64.b64encode(json.dumps(doc).encode()).decode()

    assert get(app, **{"X-Identity": identity({"identity": {"org": "acme"}})}).status_code == 200
    assert refused(get(app, **{"X-Identity": identity({"identity": {"org": "evil"}})}), "accepted")
    # malformed: not base64, base64 of non-JSON, JSON the filter cannot walk
    assert refused(get(app, **{"X-Identity": "%%%not-base64"}), "base64")
    assert refused(get(app, **{"X-Identity": base64.b64encode(b"{nope").decode()}), "base64")
    assert get(app, **{"X-Identity": identity([1, 2])}).status_code == 403


# --- x509 -----------------------------------------------------------------------------------------
def test_x509_guard(app, dist):
    ca, other = CA.create("Guard CA"), CA.create("Other CA")
    guard(dist, X509CertGuard.objects.create(name="x", ca_certificate=ca.pem))
    ok = get(app, **{"X-CLIENT-CERT": header(ca.issue())})
    assert ok.status_code == 200 and ok.content == DATA
    assert refused(get(app), "no client certificate")
    expired = ca.issue(not_before=timedelta(days=-3), not_after=timedelta(days=-1))
    assert refused(get(app, **{"X-CLIENT-CERT": header(expired)}), "expired")
    future = ca.issue(not_before=timedelta(days=1), not_after=timedelta(days=3))
    assert refused(get(app, **{"X-CLIENT-CERT": header(future)}), "not valid yet")
    assert refused(get(app, **{"X-CLIENT-CERT": header(other.issue())}), "not issued")
    # an impostor CA with the same name but another key
    impostor = CA.create("Guard CA")
    assert refused(get(app, **{"X-CLIENT-CERT": header(impostor.issue())}), "not issued")
    # junk in the header is a 403, never a 500
    for junk in ("garbage", header("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")):
        assert refused(get(app, **{"X-CLIENT-CERT": junk}), "not a certificate")


def test_x509_guard_accepts_a_ca_bundle_and_folded_pem(app, dist):
    ca, second = CA.create("One"), CA.create("Two")
    guard(dist, X509CertGuard.objects.create(name="xb", ca_certificate=ca.pem + second.pem))
    assert get(app, **{"X-CLIENT-CERT": header(second.issue())}).status_code == 200
    folded = ca.issue().replace("\n", " ")  # some proxies fold the PEM onto one line
    assert get(app, **{"X-CLIENT-CERT": header(folded)}).status_code == 200


def test_x509_remembered_certificate_still_expires(app, dist):
    """Checked certificates are remembered per guard, but their dates are checked every time."""
    ca = CA.create("Memo CA")
    guard(dist, X509CertGuard.objects.create(name="xm", ca_certificate=ca.pem))
    short = {"X-CLIENT-CERT": header(ca.issue(not_after=timedelta(seconds=2)))}
    assert get(app, **short).status_code == 200
    assert get(app, **short).status_code == 200  # served from the memo
    time.sleep(2.5)
    assert refused(get(app, **short), "expired")


# --- rhsm -----------------------------------------------------------------------------------------
def test_rhsm_guard_checks_ca_then_entitled_paths(app, dist):
    ca = CA.create("Entitlement CA")
    guard(dist, RHSMCertGuard.objects.create(name="r", ca_certificate=ca.pem))
    cert = ca.issue(content_paths=["/guarded/repo/pkg", "/other/$releasever/os"])
    assert get(app, **{"X-CLIENT-CERT": header(cert)}).status_code == 200
    # a path the entitlements don't cover
    assert refused(get(app, "guarded/repo/b.txt", **{"X-CLIENT-CERT": header(cert)}), "grant")
    # a variable segment matches any one segment
    wild = ca.issue(content_paths=["/guarded/$basearch/pkg"])
    assert get(app, **{"X-CLIENT-CERT": header(wild)}).status_code == 200
    # right paths, wrong CA
    foreign = CA.create("Elsewhere").issue(content_paths=["/guarded/repo"])
    assert refused(get(app, **{"X-CLIENT-CERT": header(foreign)}), "not issued")
    # no entitlements at all: refused, with a reason
    assert refused(get(app, **{"X-CLIENT-CERT": header(ca.issue())}), "grant")


def test_rhsm_guard_reads_version_3_entitlements(app, dist):
    """The v3 layout (zlib word list + Huffman-coded path graph) decides like v1 paths do."""
    ca = CA.create("V3 CA")
    guard(dist, RHSMCertGuard.objects.create(name="r3", ca_certificate=ca.pem))

    def v3(paths=None, payload=None):
        return {"X-CLIENT-CERT": header(ca.issue(extra=v3_extensions(paths, payload)))}

    cert = v3(["/guarded/repo/pkg", "/other/$releasever/os", "/guarded/$basearch/srpms"])
    ok = get(app, **cert)
    assert ok.status_code == 200 and ok.content == DATA
    assert get(app, "guarded/repo/pkg/", **cert).status_code == 200  # a listing below the path
    assert refused(get(app, "guarded/repo/b.txt", **cert), "grant")
    assert refused(get(app, "guarded/repo/", **cert), "grant")  # a listing above it
    wild = v3(["/guarded/$basearch/pkg"])
    assert get(app, **wild).status_code == 200
    assert refused(get(app, **v3(["/guarded/repo/pkg/b.bin"])), "grant")
    # announced as version 3 but without content, and payloads that cannot be decoded: 403
    assert refused(get(app, **{"X-CLIENT-CERT": header(ca.issue(extra=[V3_VERSION]))}), "grant")
    good = encode_v3_payload(["/guarded/repo"])
    for junk in (b"not zlib", good[:-1], zlib.compress(b"guarded\0") + b"\x7f\x00", b""):
        r = get(app, **v3(payload=junk))
        assert r.status_code == 403 and DATA not in r.content
        assert "cannot be read" in r.text or "grant" in r.text
    assert refused(get(app, **v3(payload=good[:-1])), "cannot be read")
    # the right paths from another CA
    foreign = CA.create("V3 CA").issue(extra=v3_extensions(["/guarded/repo"]))
    assert refused(get(app, **{"X-CLIENT-CERT": header(foreign)}), "not issued")


# --- composite ------------------------------------------------------------------------------------
def test_composite_of_header_and_x509_lets_either_through(app, dist):
    ca = CA.create("Composite CA")
    h = HeaderContentGuard.objects.create(name="ch", header_name="X-Key", header_value="k")
    x = X509CertGuard.objects.create(name="cx", ca_certificate=ca.pem)
    comp = CompositeContentGuard.objects.create(name="c")
    comp.guards.set([h, x])
    guard(dist, comp)
    assert get(app, **{"X-Key": "k"}).status_code == 200
    assert get(app, **{"X-CLIENT-CERT": header(ca.issue())}).status_code == 200
    r = get(app, **{"X-Key": "no"})
    assert refused(r, "every guard") and "ch:" in r.text and "cx:" in r.text
    # an empty composite lets nothing through
    comp.guards.set([])
    time.sleep(0.2)
    assert refused(get(app, **{"X-Key": "k"}), "no guards")


# --- content redirect -----------------------------------------------------------------------------
def test_content_redirect_guard_signed_urls(app, dist):
    g = guard(dist, ContentRedirectContentGuard.objects.create(name="redir"))
    url = app.url(P + "guarded/repo/pkg/a.bin")
    signed = g.preauthenticate_url(url, expires_in=60)
    r = requests.get(signed)
    assert r.status_code == 200 and r.content == DATA
    assert refused(requests.get(url), "validate_token")
    # the same token on another path
    other = signed.replace("/pkg/a.bin", "/b.txt")
    assert requests.get(other).status_code == 403
    # past its expiry
    stale = g.preauthenticate_url(url, expires_in=-5)
    assert refused(requests.get(stale), "expired")
    # a forged expiry (signature no longer matches)
    token = signed.split("validate_token=")[1]
    forged = signed.replace(token, str(int(time.time()) + 9999) + token[token.index("%3A") :])
    assert refused(requests.get(forged), "does not match")
    assert refused(requests.get(url + "?validate_token=abc"), "malformed")
    # another guard's secret does not validate here
    other_guard = ContentRedirectContentGuard.objects.create(name="redir2")
    assert requests.get(other_guard.preauthenticate_url(url)).status_code == 403


# --- cache, invalidation, deletion, listing -------------------------------------------------------
def test_guarded_hits_need_no_query_and_changes_apply_within_a_second(app, dist, monkeypatch):
    import pulpcore.content.guards as guards

    g = guard(
        dist, HeaderContentGuard.objects.create(name="c1", header_name="X-K", header_value="1")
    )
    assert get(app, **{"X-K": "1"}).status_code == 200
    time.sleep(0.2)  # let the NOTIFYs of the setup arrive, then warm the cache again
    assert get(app, **{"X-K": "1"}).status_code == 200
    loads = []
    real = guards.load_guard
    monkeypatch.setattr(guards, "load_guard", lambda *a: loads.append(a) or real(*a))
    for _ in range(5):
        assert get(app, **{"X-K": "1"}).status_code == 200
        assert get(app, **{"X-K": "2"}).status_code == 403
    assert loads == [], "a cached request loaded its guard again"
    # changing the guard's detail row reaches the running app within a second
    HeaderContentGuard.objects.filter(pk=g.pk).update(header_value="2")
    deadline = time.monotonic() + 1.0
    while get(app, **{"X-K": "2"}).status_code != 200:
        assert time.monotonic() < deadline, "guard change not seen within a second"
        time.sleep(0.02)
    assert get(app, **{"X-K": "1"}).status_code == 403


def test_composite_membership_change_invalidates(app, dist):
    a = HeaderContentGuard.objects.create(name="m1", header_name="X-A", header_value="a")
    b = HeaderContentGuard.objects.create(name="m2", header_name="X-B", header_value="b")
    comp = CompositeContentGuard.objects.create(name="mc")
    comp.guards.set([a])
    guard(dist, comp)
    assert get(app, **{"X-B": "b"}).status_code == 403
    comp.guards.add(b)  # only the m2m table changes
    deadline = time.monotonic() + 1.0
    while get(app, **{"X-B": "b"}).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_deleting_a_guard_detaches_it(app, dist):
    g = guard(
        dist, HeaderContentGuard.objects.create(name="d", header_name="X-K", header_value="1")
    )
    assert get(app).status_code == 403
    g.delete()
    dist.refresh_from_db()
    assert dist.content_guard_id is None
    deadline = time.monotonic() + 1.0
    while get(app).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_hide_guarded_distributions(app, dist, settings):
    distribute("open/repo", repository=make_repository())
    guard(dist, HeaderContentGuard.objects.create(name="hg", header_name="X-K", header_value="1"))
    root = requests.get(app.url(P)).text
    assert 'href="guarded/"' in root and 'href="open/"' in root
    settings.HIDE_GUARDED_DISTRIBUTIONS = True
    dist.save()
    time.sleep(0.2)
    root = requests.get(app.url(P)).text
    assert 'href="guarded/"' not in root and 'href="open/"' in root


def test_loading_a_guard_costs_a_bounded_number_of_queries(dist):
    """On a miss the composite and its members load in a fixed number of queries."""
    from pulpcore.content.guards import load_guard

    ca = CA.create()
    members = [
        HeaderContentGuard.objects.create(name=f"q{i}", header_name="X", header_value="v")
        for i in range(3)
    ] + [X509CertGuard.objects.create(name="qx", ca_certificate=ca.pem)]
    comp = CompositeContentGuard.objects.create(name="qc")
    comp.guards.set(members)
    with CaptureQueriesContext(connection) as ctx:
        loaded = load_guard(str(comp.pk))
    assert len(loaded._members) == 4
    # master row, detail row, member list, one cast per member
    assert len(ctx.captured_queries) <= 3 + len(members)


def test_x509_ca_change_reaches_every_content_app(app, dist):
    """Two content-app instances (each its own cache and LISTEN connection) see a CA swap."""
    other = AppThread().start()
    try:
        other.wait_cache_ready()
        old, new = CA.create("Old CA"), CA.create("New CA")
        g = guard(dist, X509CertGuard.objects.create(name="swap", ca_certificate=old.pem))
        old_cert = {"X-CLIENT-CERT": header(old.issue())}
        new_cert = {"X-CLIENT-CERT": header(new.issue())}
        for a in (app, other):
            assert get(a, **old_cert).status_code == 200
            assert get(a, **new_cert).status_code == 403
        X509CertGuard.objects.filter(pk=g.pk).update(ca_certificate=new.pem)
        deadline = time.monotonic() + 1.0
        for a in (app, other):
            while get(a, **new_cert).status_code != 200:
                assert time.monotonic() < deadline, "CA change not seen within a second"
                time.sleep(0.02)
            assert get(a, **old_cert).status_code == 403
    finally:
        other.stop()


def test_rbac_guard_lets_downloaders_through_by_basic_auth_or_session(app, dist):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from pulpcore.app.access.roles import assign_role, remove_role
    from pulpcore.app.models import Group, RBACContentGuard

    users = get_user_model().objects
    pw = "Long-Enough-Secret-1"
    alice = users.create_user("rbac-alice", password=pw)
    bob = users.create_user("rbac-bob", password=pw)
    users.create_user("rbac-carol", password=pw)
    users.create_superuser("rbac-root", password=pw)
    team = Group.objects.create(name="rbac-team")
    bob.groups.add(team)
    g = guard(dist, RBACContentGuard.objects.create(name="rbac"))
    assign_role("core.rbaccontentguard_downloader", user=alice, obj=g)
    assign_role("core.rbaccontentguard_downloader", group=team, obj=g)

    def fetch(**kw):
        return requests.get(app.url(P + "guarded/repo/pkg/a.bin"), timeout=10, **kw)

    r = fetch()
    assert r.status_code == 401 and DATA not in r.content and "WWW-Authenticate" in r.headers
    assert fetch(auth=("rbac-alice", "wrong")).status_code == 401
    assert fetch(headers={"Authorization": "Basic !!notbase64"}).status_code == 401
    for who in ("rbac-alice", "rbac-bob", "rbac-root"):
        r = fetch(auth=(who, pw))
        assert r.status_code == 200 and r.content == DATA, who
    assert refused(fetch(auth=("rbac-carol", pw)), "rbac-carol")
    # A Django session (as the browsable API logs in) counts as well; a forged one does not.
    browser = Client()
    browser.force_login(alice)
    session = browser.cookies["sessionid"].value
    assert fetch(cookies={"sessionid": session}).status_code == 200
    assert fetch(cookies={"sessionid": "forged"}).status_code == 401
    # Roles are read per request: taking one away, or deactivating a user, applies at once.
    remove_role("core.rbaccontentguard_downloader", group=team, obj=g)
    assert fetch(auth=("rbac-bob", pw)).status_code == 403
    alice.is_active = False
    alice.save()
    assert fetch(auth=("rbac-alice", pw)).status_code == 401
    assert fetch(cookies={"sessionid": session}).status_code == 401
    # A model-wide downloader may fetch through every RBAC guard.
    assign_role("core.rbaccontentguard_downloader", user=bob)
    assert fetch(auth=("rbac-bob", pw)).status_code == 200
