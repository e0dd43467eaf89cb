"""The version 3 entitlement decoder against the test-side encoder (tests/certs.py).

The encoder and decoder were written separately from the same description of the layout, so a
disagreement in any rule (weights, tie-breaks, bit order, node numbering, end marker) fails here.
Paths are then matched exactly as version 1 paths are (``certs.path_allowed``).
"""

import random
import zlib

import pytest

from pulp_certguard.app import certs, entitlement_v3
from pulp_certguard.app.entitlement_v3 import MalformedEntitlement, decode, unwrap_octet_string
from tests.certs import CA, der_octets, encode_v3_payload, v3_extensions

RHEL = [
    "/content/dist/rhel/server/7/$releasever/$basearch/os",
    "/content/dist/rhel/server/7/$releasever/$basearch/optional/os",
    "/content/dist/rhel/server/7/7Server/x86_64/extras/os",
    "/content/beta/rhel/server/7/$basearch/os",
    "/content/dist/rhel8/$releasever/x86_64/baseos/os",
    "/content/dist/rhel8/$releasever/x86_64/appstream/os",
]


def test_round_trip_lists_every_path():
    graph = decode(encode_v3_payload(RHEL))
    assert graph.paths() == sorted(RHEL)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/content/dist/rhel/server/7/7.9/x86_64/os/Packages/a.rpm", True),
        ("/content/dist/rhel/server/7/7Server/x86_64/extras/os/repodata/repomd.xml", True),
        ("/content/dist/rhel/server/7/7.9/x86_64/optional/os/x.rpm", True),
        ("/content/dist/rhel8/8.6/x86_64/baseos/os/", True),
        ("/content/dist/rhel8/8.6/x86_64/baseos/os", True),
        ("//content//beta/rhel/server/7/ppc64/os/a", True),
        # the shared $basearch/os tail must not leak into siblings
        ("/content/dist/rhel8/8.6/aarch64/baseos/os/a.rpm", False),
        ("/content/dist/rhel8/8.6/x86_64/", False),
        ("/content/dist/rhel/server/7/7Server/x86_64/supplementary/os/a", False),
        ("/content/dist/rhel/server/7", False),
        ("/content", False),
        ("/", False),
        ("/other/content/dist/rhel8/8.6/x86_64/baseos/os", False),
    ],
)
def test_paths_decide_like_version_1(path, allowed):
    graph = decode(encode_v3_payload(RHEL))
    assert graph.allows(path) is allowed
    assert certs.path_allowed(RHEL, path) is allowed


def test_random_path_sets_agree_with_version_1_matching():
    """Many shapes (shared tails, >127 nodes so the count takes several bytes, long codes)."""
    rng = random.Random(11)
    alphabet = ["a", "b", "c", "os", "x86_64", "$basearch", "$releasever", "kickstart", "ñ"]
    for _ in range(40):
        paths = [
            "/" + "/".join(rng.choice(alphabet) for _ in range(rng.randint(1, 7)))
            for _ in range(rng.randint(1, 60))
        ]
        graph = decode(encode_v3_payload(paths))
        requests = [p + "/file" for p in paths] + [
            "/" + "/".join(rng.choice(alphabet + ["zz"]) for _ in range(rng.randint(1, 8)))
            for _ in range(80)
        ]
        for request in requests:
            assert graph.allows(request) == certs.path_allowed(paths, request), (paths, request)


def test_large_node_counts_use_the_long_count_form():
    paths = [f"/content/repo{i}/$basearch/os{i}" for i in range(300)]
    payload = encode_v3_payload(paths)
    rest = zlib.decompressobj()
    rest.decompress(payload)
    assert rest.unused_data[0] == 0x82  # two count bytes follow
    graph = decode(payload)
    assert graph.allows("/content/repo299/x86_64/os299/a.rpm")
    assert not graph.allows("/content/repo299/x86_64/os298/a.rpm")
    assert not graph.allows("/content/repo300/x86_64/os300/a.rpm")


def test_a_certificate_without_content_grants_nothing():
    assert not decode(b"").allows("/anything")
    assert not decode(encode_v3_payload([])).allows("/anything")


def good_payload() -> bytes:
    return encode_v3_payload(["/content/dist/$basearch/os", "/content/beta/os"])


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00not zlib at all", "zlib"),
        (zlib.compress(b"content\0os\0")[:-3], "truncated"),
        (zlib.compress(b"content\0os"), "NUL"),
        (zlib.compress(b"a\0"), "node count is missing"),
        (zlib.compress(b"a\0") + b"\x85\x01", "node count"),
        (zlib.compress(b"a\0") + b"\x7f\x00", "node count does not fit"),
        (zlib.compress(b"\0") + b"\x05", "node count"),
        (zlib.compress(b"\xff\xfe\0") + b"\x01\x00", "UTF-8"),
        (zlib.compress(b"x" * (entitlement_v3.MAX_WORDS_BYTES + 1)), "too large"),
        (good_payload()[:-1], "ends in the middle"),
    ],
)
def test_malformed_payloads_raise(payload, reason):
    with pytest.raises(MalformedEntitlement, match=reason):
        decode(payload)


def test_extension_value_must_be_an_octet_string():
    payload = good_payload()
    assert unwrap_octet_string(der_octets(payload)) == payload
    assert unwrap_octet_string(der_octets(b"x" * 300)) == b"x" * 300
    for bad in (b"", b"\x0c\x01a", b"\x04\x05abc", b"\x04\x85\x00", der_octets(payload) + b"!"):
        with pytest.raises(MalformedEntitlement):
            unwrap_octet_string(bad)


def test_entitlements_picks_the_layout_by_version():
    ca = CA.create()
    from cryptography import x509

    def load(pem):
        return x509.load_pem_x509_certificate(pem.encode())

    v3 = certs.entitlements(load(ca.issue(extra=v3_extensions(["/repo/$basearch"]))))
    assert v3.allows("/repo/x86_64/a") and not v3.allows("/other/x86_64")
    v1 = certs.entitlements(load(ca.issue(content_paths=["/repo"])))
    assert v1.allows("/repo/a") and not v1.allows("/other")
    # version 3 announced, no payload: nothing granted; a bad payload: refused with a reason
    bare = certs.entitlements(load(ca.issue(extra=[v3_extensions([])[0]])))
    assert not bare.allows("/repo")
    with pytest.raises(certs.CertificateRefused, match="cannot be read"):
        certs.entitlements(load(ca.issue(extra=v3_extensions(payload=b"junk"))))
