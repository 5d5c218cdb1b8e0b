"""A school CA and room certificates (``roomctl certs init`` / ``roomctl certs issue``).

Browsers allow screen capture only in a secure context, so a real room needs HTTPS. The CA
key stays with school IT; each room gets a certificate for its DNS name and address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from roomctl.statedir import atomic_write

ROOM_DAYS = 397  # the longest validity browsers accept for a server certificate
CA_DAYS = 3650
BACKDATE = dt.timedelta(minutes=5)  # tolerate a client clock slightly behind ours


@dataclass(frozen=True)
class IssuedPair:
    """Paths of a written certificate and its key."""

    cert: Path
    key: Path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> IssuedPair:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    atomic_write(key_path, key_pem(key), 0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return IssuedPair(cert_path, key_path)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    days: int,
    backdate: dt.timedelta = BACKDATE,
) -> x509.CertificateBuilder:
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - backdate)
        .not_valid_after(now + dt.timedelta(days=days))
    )


def server_certificate(
    key: ec.EllipticCurvePrivateKey,
    common_name: str,
    names: list[x509.GeneralName],
    days: int,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    backdate: dt.timedelta = BACKDATE,
) -> x509.Certificate:
    """A TLS server certificate for ``names``, signed by ``ca`` (self-signed when None)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer, signer = (ca[0].subject, ca[1]) if ca is not None else (subject, key)
    return (
        _builder(subject, issuer, key, days, backdate)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )


def init_ca(directory: Path, name: str = "roomctl school CA") -> IssuedPair:
    """Create a CA key and self-signed CA certificate in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _builder(subject, subject, key, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _write(directory, "ca", cert, key)


def _load(pair: IssuedPair) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be an EC key")
    return cert, key


def issue(
    ca: IssuedPair | None,
    out_dir: Path,
    room: str,
    dns: list[str],
    ips: list[str],
    days: int = ROOM_DAYS,
) -> IssuedPair:
    """A server certificate for ``room``, signed by ``ca`` (self-signed when ``ca`` is None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    ca_pair = _load(ca) if ca is not None else None
    cert = server_certificate(key, dns[0] if dns else room, names, days, ca_pair)
    return _write(out_dir, room, cert, key)
