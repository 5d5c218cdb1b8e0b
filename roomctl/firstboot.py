"""``roomctl firstboot``: per-device provisioning, so no two rooms share a secret or a key.

Run once by ``roomctl-firstboot.service`` (as root, before ``roomctl.service``) and safe to run
again: everything that exists is kept. It creates the room secret, the device id, a TLS key with a
self-signed certificate (and optionally a CSR for the school CA), imports a ``roomctl.toml`` left on
the boot partition, and sets the hostname from the room id. Files in the state directory are
handed to the owner of that directory (the ``roomctl`` service account).
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import logging
import os
import re
import shutil
import socket
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from roomctl.certs import key_pem, server_certificate
from roomctl.config.loader import load_config
from roomctl.core.errors import ConfigError
from roomctl.statedir import StateDir, atomic_write
from roomctl.telemetry.ids import new_device_id

logger = logging.getLogger(__name__)

CONFIG_NAME = "roomctl.toml"
CERT_DAYS = 825  # the longest lifetime Apple clients accept for a TLS server certificate
_LABEL = re.compile(r"[^a-z0-9-]+")


def hostname_for(room_id: str) -> str:
    """A valid host name (RFC 1123 label) derived from the room id, e.g. ``A 101`` → ``a-101``."""
    label = _LABEL.sub("-", room_id.lower()).strip("-")[:63].strip("-")
    return label or "roomctl"


def _hand_over(path: Path, like: Path) -> None:
    """Give ``path`` the owner and group of ``like`` (when we may)."""
    info = like.stat()
    if os.geteuid() == 0 and (path.stat().st_uid, path.stat().st_gid) != (info.st_uid, info.st_gid):
        os.chown(path, info.st_uid, info.st_gid)


def ensure_secret(state: Path) -> bool:
    """Create ``<state>/room_secret`` (32 random bytes, 0600); True if it was created."""
    existed = (state / "room_secret").exists()
    StateDir(state).room_secret()
    _hand_over(state / "room_secret", state)
    return not existed


def ensure_device_id(state: Path) -> tuple[str, bool]:
    """The device id in ``<state>/device_id`` (``rc-<12 hex>``), created if absent."""
    path = state / "device_id"
    current = path.read_text().strip() if path.exists() else ""
    if re.fullmatch(r"rc-[0-9a-f]{12}", current):
        return current, False
    device_id = new_device_id()
    atomic_write(path, f"{device_id}\n".encode(), 0o644)
    _hand_over(path, state)
    return device_id, True


def import_boot_config(boot: Path, etc: Path) -> str:
    """Copy a valid ``<boot>/roomctl.toml`` to ``<etc>``, then rename it; returns what happened."""
    source = boot / CONFIG_NAME
    if not source.is_file():
        return "none"
    try:
        load_config(source)
    except ConfigError as err:
        # FAT has no permissions worth keeping; the reason sits next to the file for the installer
        (boot / "roomctl.toml.errors.txt").write_text(f"{err}\n")
        source.rename(boot / "roomctl.toml.invalid")
        logger.error("boot partition config rejected:\n%s", err)
        return "invalid"
    etc.mkdir(parents=True, exist_ok=True)
    target = etc / CONFIG_NAME
    if target.exists():
        shutil.copy2(target, etc / "roomctl.toml.before-import")
    atomic_write(target, source.read_bytes(), 0o640)
    _hand_over(target, etc)
    source.rename(boot / "roomctl.toml.imported")
    return "imported"


def apply_hostname(name: str, etc: Path = Path("/etc"), live: bool = True) -> bool:
    """Write ``/etc/hostname`` and the 127.0.1.1 line of ``/etc/hosts``; True if changed."""
    hostname_file, hosts_file = etc / "hostname", etc / "hosts"
    old = hostname_file.read_text().strip() if hostname_file.exists() else ""
    if old == name:
        return False
    hostname_file.write_text(f"{name}\n")
    lines = hosts_file.read_text().splitlines() if hosts_file.exists() else []
    kept = [line for line in lines if not line.startswith("127.0.1.1")]
    hosts_file.write_text("\n".join([*kept, f"127.0.1.1\t{name}"]) + "\n")
    if live:
        socket.sethostname(name)
    return True


def _names(hostname: str) -> list[x509.GeneralName]:
    dns = [hostname, f"{hostname}.local", "localhost"]
    ips = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    return [*(x509.DNSName(n) for n in dns), *(x509.IPAddress(ip) for ip in ips)]


def self_signed(key: ec.EllipticCurvePrivateKey, hostname: str) -> x509.Certificate:
    """A self-signed server certificate for ``hostname`` (and ``.local``, loopback)."""
    backdate = datetime.timedelta(hours=1)
    return server_certificate(key, hostname, _names(hostname), CERT_DAYS, backdate=backdate)


def signing_request(
    key: ec.EllipticCurvePrivateKey, hostname: str
) -> x509.CertificateSigningRequest:
    """A CSR for the school CA with the same names as the self-signed certificate."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    san = x509.SubjectAlternativeName(_names(hostname))
    builder = x509.CertificateSigningRequestBuilder().subject_name(name)
    return builder.add_extension(san, critical=False).sign(key, hashes.SHA256())


def _load_or_create_key(path: Path) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key, False
    key = ec.generate_private_key(ec.SECP256R1())
    atomic_write(path, key_pem(key), 0o600)
    return key, True


def ensure_tls(state: Path, hostname: str, csr: bool = False) -> list[str]:
    """Create ``<state>/tls/{key,cert}.pem`` (and ``request.csr``) if absent; lists new files."""
    tls = state / "tls"
    tls.mkdir(mode=0o750, exist_ok=True)
    _hand_over(tls, state)
    key, made_key = _load_or_create_key(tls / "key.pem")
    made = ["key.pem"] if made_key else []
    pem = serialization.Encoding.PEM
    if made_key or not (tls / "cert.pem").exists():
        atomic_write(tls / "cert.pem", self_signed(key, hostname).public_bytes(pem), 0o644)
        made.append("cert.pem")
    if csr and (made_key or not (tls / "request.csr").exists()):
        atomic_write(tls / "request.csr", signing_request(key, hostname).public_bytes(pem), 0o644)
        made.append("request.csr")
    for item in ("key.pem", "cert.pem", "request.csr"):
        if (tls / item).exists():
            _hand_over(tls / item, state)
    return made


def _room_id(etc: Path) -> str:
    try:
        return load_config(etc / CONFIG_NAME).room.id
    except ConfigError as err:
        logger.warning("hostname left as it is: config not usable (%s)", err.issues[0])
        return ""


def provision(boot: Path, etc: Path, state: Path, set_hostname: bool, csr: bool) -> list[str]:
    """Every first-boot step; returns one line per thing that changed."""
    StateDir(state).ensure()
    done = [f"boot config: {what}"] if (what := import_boot_config(boot, etc)) != "none" else []
    if ensure_secret(state):
        done.append("room secret created")
    device_id, made = ensure_device_id(state)
    if made:
        done.append(f"device id {device_id}")
    room_id = _room_id(etc) if (etc / CONFIG_NAME).exists() else ""
    hostname = hostname_for(room_id) if room_id else socket.gethostname()
    if set_hostname and room_id and apply_hostname(hostname):
        done.append(f"hostname {hostname}")
    done.extend(f"tls {name}" for name in ensure_tls(state, hostname, csr))
    return done


def handle_firstboot(args: argparse.Namespace) -> int:
    """Provision this device; prints what changed (nothing on a re-run)."""
    try:
        done = provision(
            Path(args.boot_dir), Path(args.etc), Path(args.state), not args.no_hostname, args.csr
        )
    except (ConfigError, OSError) as err:
        print(f"firstboot failed: {err}")
        return 1
    print("\n".join(done) if done else "already provisioned; nothing to do")
    return 0


def register(subparsers: Any) -> None:
    """Add ``roomctl firstboot``."""
    parser = subparsers.add_parser("firstboot", help="provision secrets, keys and hostname once")
    parser.add_argument("--boot-dir", default="/boot/firmware", help="boot partition")
    parser.add_argument("--etc", default="/etc/roomctl", help="configuration folder")
    parser.add_argument("--state", default="/var/lib/roomctl", help="state folder")
    parser.add_argument("--no-hostname", action="store_true", help="leave the hostname alone")
    parser.add_argument("--csr", action="store_true", help="also write tls/request.csr")
    parser.set_defaults(func=handle_firstboot)
