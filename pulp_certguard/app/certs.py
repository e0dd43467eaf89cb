"""Certificate checks behind the certguard guards: parsing, issuance, validity, entitlements.

Everything cryptographic goes through ``cryptography``. The only structure decoded by hand is the
payload of Red Hat entitlement extensions, described below.

How entitlement certificates name the content they grant
--------------------------------------------------------
Red Hat's subscription service issues X.509 client certificates whose private extensions (all
below the enterprise arc ``1.3.6.1.4.1.2312.9``) say what the holder bought. Two layouts exist:

* Version 1 certificates have one group of extensions per content set, numbered by the content
  set's id ``N``: ``1.3.6.1.4.1.2312.9.2.N.1.6`` holds the set's download path (for example
  ``/content/dist/rhel/server/7/$releasever/$basearch/os``). The extension's value is the DER
  encoding of a string (normally UTF8String, tag 0x0C; IA5String, tag 0x16, is also accepted).
  We read the tag and the DER length, then the text.
* Version 3 certificates say ``3.x`` in ``1.3.6.1.4.1.2312.9.6`` and pack every path into one
  extension, ``1.3.6.1.4.1.2312.9.7``: a DER OCTET STRING holding a zlib-compressed word list
  followed by a Huffman-coded graph of path segments. ``entitlement_v3`` decodes it (its
  docstring describes the layout). A payload that cannot be decoded refuses the request.

A path segment that starts with ``$`` (``$releasever``, ``$basearch``) is a variable the client
fills in, so it matches any single segment of the request. A request is allowed when one granted
path, compared segment by segment, is a prefix of the requested path below the content root.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from pulp_certguard.app import entitlement_v3
from pulp_certguard.app.entitlement_v3 import PathGraph

ENTITLEMENT_ARC = "1.3.6.1.4.1.2312.9."
CONTENT_PATH_PREFIX = ENTITLEMENT_ARC + "2."
VERSION_OID = ENTITLEMENT_ARC + "6"
V3_PATHS_OID = ENTITLEMENT_ARC + "7"


class CertificateRefused(PermissionError):
    """The client certificate cannot be accepted; the message is shown to the client."""


def load_ca_bundle(pem: str) -> list[x509.Certificate]:
    """Parse one or more PEM CA certificates; raise ValueError when there is none or it is bad."""
    data = pem.encode() if isinstance(pem, str) else pem
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("The CA certificate is not a PEM encoded certificate.")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ValueError(f"The CA certificate could not be parsed: {exc}") from exc
    if not certs:
        raise ValueError("The CA certificate is not a PEM encoded certificate.")
    return certs


def client_certificate(header_value: str | None) -> x509.Certificate:
    """The client certificate nginx forwarded (URL-encoded PEM, as ``$ssl_client_escaped_cert``)."""
    if not header_value:
        raise CertificateRefused("Access denied: no client certificate was presented.")
    text = unquote(header_value)
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise CertificateRefused("Access denied: the client certificate is not a certificate.")
    try:
        # Some proxies send the PEM with its newlines replaced by spaces or tabs.
        return x509.load_pem_x509_certificate(_repair_pem(text).encode())
    except ValueError as exc:
        raise CertificateRefused(
            "Access denied: the client certificate is not a certificate."
        ) from exc


def _repair_pem(text: str) -> str:
    """Restore the line breaks a proxy may have folded into spaces or tabs."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    if "\n" in text.strip():
        return text
    body = text.split(begin, 1)[1].split(end, 1)[0]
    body = "".join(body.split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([begin, *lines, end, ""])


def check_validity_dates(cert: x509.Certificate) -> datetime:
    """Refuse ``cert`` outside its validity window; return the time it was checked at."""
    now = datetime.now(UTC)
    if cert.not_valid_before_utc > now:
        raise CertificateRefused("Access denied: the client certificate is not valid yet.")
    if cert.not_valid_after_utc < now:
        raise CertificateRefused("Access denied: the client certificate has expired.")
    return now


def check_ca_dates(ca: x509.Certificate, now: datetime) -> None:
    if not (ca.not_valid_before_utc <= now <= ca.not_valid_after_utc):
        raise CertificateRefused("Access denied: the issuing CA certificate is not valid now.")


def check_issued_and_valid(cert: x509.Certificate, cas: list[x509.Certificate]) -> x509.Certificate:
    """Refuse ``cert`` unless one of ``cas`` signed it and both are inside their validity dates;
    return the issuing CA."""
    now = check_validity_dates(cert)
    for ca in cas:
        if ca.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        check_ca_dates(ca, now)
        return ca
    raise CertificateRefused(
        "Access denied: the client certificate was not issued by the guard's CA."
    )


# --- entitlement extensions -----------------------------------------------------------------------
def _der_string(value: bytes) -> str:
    """Text of a DER UTF8String/IA5String/PrintableString (tag, length, bytes)."""
    if len(value) < 2 or value[0] not in (0x0C, 0x16, 0x13):
        raise ValueError("not a DER string")
    length, offset = value[1], 2
    if length & 0x80:  # long form: the low bits say how many length bytes follow
        count = length & 0x7F
        length = int.from_bytes(value[2 : 2 + count], "big")
        offset = 2 + count
    return value[offset : offset + length].decode("utf-8")


class V1Grants:
    """The content paths of a version 1 certificate, one extension each."""

    def __init__(self, paths: list[str]):
        self.paths = paths

    def allows(self, path: str) -> bool:
        return path_allowed(self.paths, path)


def entitlements(cert: x509.Certificate) -> V1Grants | PathGraph:
    """What an entitlement certificate grants; ``.allows(path)`` decides a request.

    Raises CertificateRefused when a version 3 payload cannot be decoded.
    """
    paths = []
    version = ""
    v3_payload = None
    for ext in cert.extensions:
        oid = ext.oid.dotted_string
        if not oid.startswith(ENTITLEMENT_ARC):
            continue
        raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
        if oid == VERSION_OID:
            try:
                version = _der_string(raw)
            except (ValueError, UnicodeDecodeError):
                version = ""
        elif oid == V3_PATHS_OID:
            v3_payload = raw
        elif oid.startswith(CONTENT_PATH_PREFIX) and oid.endswith(".1.6"):
            try:
                paths.append(_der_string(raw))
            except (ValueError, UnicodeDecodeError):
                continue
    major = version.split(".", 1)[0]
    if v3_payload is None and not (major.isdigit() and int(major) >= 3):
        return V1Grants(paths)
    if v3_payload is None:  # a version 3 certificate without content grants nothing
        return entitlement_v3.decode(b"")
    try:
        return entitlement_v3.decode(entitlement_v3.unwrap_octet_string(v3_payload))
    except entitlement_v3.MalformedEntitlement as exc:
        raise CertificateRefused(
            f"Access denied: the certificate's entitlement data cannot be read ({exc})."
        ) from exc


def path_allowed(granted: list[str], requested: str) -> bool:
    """True when one granted path is a segment-wise prefix of ``requested`` ($vars match any)."""
    want = [s for s in requested.split("/") if s]
    for path in granted:
        have = [s for s in path.split("/") if s]
        if len(have) > len(want):
            continue
        if all(h.startswith("$") or h == w for h, w in zip(have, want, strict=False)):
            return True
    return False
