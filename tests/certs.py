"""Certificates made on the fly for the guard tests (never checked in).

A CA and client certificates with chosen validity windows and, for entitlement certificates,
Red Hat content-path extensions: the version 1 layout (``1.3.6.1.4.1.2312.9.2.<id>.1.6`` holding
a DER UTF8String path) and the version 3 layout (one ``1.3.6.1.4.1.2312.9.7`` extension holding a
zlib word list and a Huffman-coded path graph), whose encoder below is written independently of
the server's decoder (pulp_certguard/app/entitlement_v3.py) from the same description.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def der_utf8(text: str) -> bytes:
    data = text.encode()
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(length)]) + length + data


def der_octets(data: bytes) -> bytes:
    if len(data) < 0x80:
        return bytes([0x04, len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(length)]) + length + data


V3_VERSION = ("1.3.6.1.4.1.2312.9.6", der_utf8("3.4"))
V3_PATHS_OID = "1.3.6.1.4.1.2312.9.7"


def _huffman_codes(count: int) -> list[str]:
    """Bit strings of ``count`` items weighted 1..count: the two lightest groups merge (the
    earlier-queued one on the 0 side), each merge prefixing its members' codes."""
    codes = [""] * count
    groups = [(i + 1, i, [i]) for i in range(count)]  # weight, arrival, members
    arrival = count
    while len(groups) > 1:
        groups.sort(key=lambda g: (g[0], g[1]))
        (w0, _, zero), (w1, _, one), groups = groups[0], groups[1], groups[2:]
        for i in zero:
            codes[i] = "0" + codes[i]
        for i in one:
            codes[i] = "1" + codes[i]
        groups.append((w0 + w1, arrival, zero + one))
        arrival += 1
    return codes


def encode_v3_payload(paths: list[str]) -> bytes:
    """The version 3 entitlement payload granting ``paths`` (equal sub-trees are shared, as a
    real issuer does)."""
    # Only a node without edges ends a path, so a path below another granted path is dropped
    # (the shorter one grants it already): shorter paths go in first and stop longer ones.
    trie: dict = {}
    ends: set[int] = set()
    for path in sorted(paths, key=lambda p: len([s for s in p.split("/") if s])):
        node = trie
        for segment in (s for s in path.split("/") if s):
            if id(node) in ends:
                break
            node = node.setdefault(segment, {})
        else:
            node.clear()
            ends.add(id(node))

    def shape(node: dict) -> tuple:
        return tuple(sorted((w, shape(c)) for w, c in node.items()))

    number = {shape(trie): 0}
    nodes, queue = [trie], [trie]
    while queue:
        for _, child in sorted(queue.pop(0).items()):
            if shape(child) not in number:
                number[shape(child)] = len(nodes)
                nodes.append(child)
                queue.append(child)
    uses: dict[str, int] = {}
    for node in nodes:
        for word in node:
            uses[word] = uses.get(word, 0) + 1
    words = sorted(uses, key=lambda w: (uses[w], w)) + [""]  # the end marker comes last
    word_code = dict(zip(words, _huffman_codes(len(words)), strict=True))
    node_code = _huffman_codes(len(nodes) - 1)
    bits = ""
    for node in nodes:
        for word, child in sorted(node.items()):
            bits += word_code[word] + node_code[number[shape(child)] - 1]
        bits += word_code[""]
    bits += "0" * (-len(bits) % 8)
    count = len(nodes)
    if count < 128:
        count_bytes = bytes([count])
    else:
        size = (count.bit_length() + 7) // 8
        count_bytes = bytes([0x80 | size]) + count.to_bytes(size, "big")
    stream = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    word_list = b"".join(w.encode() + b"\0" for w in words[:-1])
    return zlib.compress(word_list) + count_bytes + stream


def v3_extensions(paths: list[str] | None = None, payload: bytes | None = None) -> list:
    """The ``extra`` extensions of a version 3 entitlement certificate."""
    if payload is None:
        payload = encode_v3_payload(paths or [])
    return [V3_VERSION, (V3_PATHS_OID, der_octets(payload))]


@dataclass
class CA:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str = "Test CA") -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(name, key, cert)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, cn: str = "client", **kw) -> str:
        """A client certificate (PEM); validity is relative to now."""
        return self.issue_pair(cn, **kw)[0]

    def issue_pair(
        self,
        cn: str = "client",
        not_before: timedelta = timedelta(days=-1),
        not_after: timedelta = timedelta(days=1),
        content_paths: list[str] | None = None,
        extra: list[tuple[str, bytes]] | None = None,
    ) -> tuple[str, str]:
        """A client certificate and its private key (both PEM), for a real TLS handshake."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + not_before)
            .not_valid_after(now + not_after)
        )
        for i, path in enumerate(content_paths or [], start=1000):
            oid = x509.ObjectIdentifier(f"1.3.6.1.4.1.2312.9.2.{i}.1.6")
            builder = builder.add_extension(
                x509.UnrecognizedExtension(oid, der_utf8(path)), critical=False
            )
        for oid, value in extra or []:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def header(pem: str) -> str:
    """The certificate as nginx forwards it (``$ssl_client_escaped_cert``)."""
    return quote(pem, safe="")
