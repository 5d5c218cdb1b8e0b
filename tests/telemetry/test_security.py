"""The shipped ACL file and TLS with generated certificates, on a real mosquitto."""

from __future__ import annotations

import datetime
import subprocess
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.real import async_wait_for, free_port, require_binary, wait_for
from tests.telemetry.conftest import DEV, wait_json

ROOT = Path(__file__).resolve().parents[2]
ACL = ROOT / "deploy" / "mosquitto" / "roomctl.acl"
ROOM_B = "rc-0000b0b0"
USERS = {DEV: "pw-a", ROOM_B: "pw-b", "svc-ingest": "pw-i", "svc-control": "pw-c"}


@pytest.fixture
def acl_broker(mosquitto_factory: Any, tmp_path: Path) -> Any:
    """A broker with a password file and the ACL file exactly as shipped."""
    passwd = tmp_path / "passwd"
    tool = require_binary("mosquitto_passwd")
    for i, (user, password) in enumerate(USERS.items()):
        flags = ["-c"] if i == 0 else []
        subprocess.run([tool, "-b", *flags, str(passwd), user, password], check=True)
    return mosquitto_factory(
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n", name="acl"
    )


class Client:
    """A raw paho client that records PUBACK reason codes."""

    def __init__(self, broker: Any, user: str) -> None:
        self.acks: dict[int, Any] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"raw-{user}", protocol=mqtt.MQTTv5
        )
        self.client.username_pw_set(user, USERS[user])
        self.client.on_publish = self._on_publish
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self._lock:
            self.acks[mid] = reason

    def publish(self, topic: str, payload: bytes = b"{}") -> Any:
        """Publish QoS 1 and return the broker's PUBACK reason code."""
        mid = self.client.publish(topic, payload, qos=1).mid
        return wait_for(lambda: self.acks.get(mid), 5, f"PUBACK for {topic}")

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


async def test_a_room_cannot_speak_for_another_room_or_send_commands(
    acl_broker: Any, appliance_factory: Any, watcher_factory: Any
) -> None:
    ingest = watcher_factory(acl_broker, "roomctl/v1/dev/#", username="svc-ingest", password="pw-i")
    app = await appliance_factory(acl_broker.url, password="pw-a")
    await wait_json(ingest, f"{DEV}/status", lambda b: b["online"])  # Will topic allowed too
    await wait_json(ingest, f"{DEV}/state")
    room_a = Client(acl_broker, DEV)
    try:
        assert room_a.publish(f"roomctl/v1/dev/{ROOM_B}/state").is_failure
        assert room_a.publish(f"roomctl/v1/dev/{ROOM_B}/evt/help").is_failure
        assert room_a.publish(f"roomctl/v1/dev/{DEV}/cmd/projector.power").is_failure
        assert room_a.publish(f"roomctl/v1/dev/{ROOM_B}/cmd/projector.power").is_failure
        assert room_a.publish(f"roomctl/v1/dev/{DEV}/cfg").is_failure
        assert not room_a.publish(f"roomctl/v1/dev/{DEV}/evt/marker", b'{"m":1}').is_failure
        await async_wait_for(lambda: ingest.of("/evt/marker"), what="the marker")
        assert not ingest.of(f"{ROOM_B}/state") and not ingest.of(f"{ROOM_B}/evt/help")
        assert not [m for m in ingest.of("/projector.power")]
    finally:
        room_a.stop()
    control = Client(acl_broker, "svc-control")
    try:
        topic = f"roomctl/v1/dev/{DEV}/cmd/pairing.rotate"
        body = b'{"cmd_id":"acl-1","expires_at":"2999-01-01T00:00:00Z"}'
        assert not control.publish(topic, body).is_failure
        result = await wait_json(ingest, "/cmd_result", lambda b: b["cmd_id"] == "acl-1")
        assert result["status"] == "rejected"  # too far ahead, but it was delivered and answered
        assert control.publish(f"roomctl/v1/dev/{DEV}/state").is_failure
    finally:
        control.stop()
    assert app.service.stats["refused"] == 0


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    subject: str,
    key: Any,
    issuer: tuple[str, Any] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = (
        (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]), issuer[1])
        if issuer
        else (name, key)
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(folder: Path, name: str, cert: x509.Certificate, key: Any) -> tuple[Path, Path]:
    crt, pem = folder / f"{name}.crt", folder / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.chmod(0o600)
    return crt, pem


async def test_tls_with_client_certificates_and_identity_as_username(
    mosquitto_factory: Any, appliance_factory: Any, watcher_factory: Any, tmp_path: Path
) -> None:
    ca_key = _key()
    ca = _cert("roomctl test CA", ca_key, None, ca=True)
    ca_file, _ = _write(tmp_path, "ca", ca, ca_key)
    files = {}
    for name, server in (("broker", True), (DEV, False), ("svc-ingest", False)):
        key = _key()
        files[name] = _write(
            tmp_path, name, _cert(name, key, ("roomctl test CA", ca_key), server=server), key
        )
    port = free_port()
    broker = mosquitto_factory(
        f"listener {port} 127.0.0.1\ncafile {ca_file}\ncertfile {files['broker'][0]}\n"
        f"keyfile {files['broker'][1]}\nrequire_certificate true\nuse_identity_as_username true\n"
        f"allow_anonymous false\nacl_file {ACL}\n",
        name="tls",
        port=port,
    )
    tls = {
        "ca_certs": str(ca_file),
        "certfile": str(files["svc-ingest"][0]),
        "keyfile": str(files["svc-ingest"][1]),
    }
    ingest = watcher_factory(broker, "roomctl/v1/dev/#", tls=tls)
    url = f"mqtts://localhost:{port}"
    await appliance_factory(
        url, ca_file=str(ca_file), cert_file=str(files[DEV][0]), key_file=str(files[DEV][1])
    )
    await wait_json(ingest, f"{DEV}/status", lambda b: b["online"])
    await wait_json(ingest, f"{DEV}/state")
