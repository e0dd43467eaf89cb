"""Certificates made on the fly for the guard tests (never checked in).

A CA and client certificates with chosen validity windows and, for entitlement certificates,
Red Hat content-path extensions (version 1 layout: ``1.3.6.1.4.1.2312.9.2.<id>.1.6`` holding a
DER UTF8String path).
"""

from __future__ import annotations

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

    def issue(
        self,
        cn: str = "client",
        not_before: timedelta = timedelta(days=-1),
        not_after: timedelta = timedelta(days=1),
        content_paths: list[str] | None = None,
        extra: list[tuple[str, bytes]] | None = None,
    ) -> str:
        """A client certificate (PEM); validity is relative to now."""
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
        return cert.public_bytes(serialization.Encoding.PEM).decode()


def header(pem: str) -> str:
    """The certificate as nginx forwards it (``$ssl_client_escaped_cert``)."""
    return quote(pem, safe="")
