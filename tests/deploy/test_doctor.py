"""roomctl doctor against a running emulated setup: a real broker, a pty, a /healthz server."""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from roomctl.cli import main
from roomctl.doctor import Result, certificate_result, format_table, serial_paths
from roomctl.firstboot import ensure_tls, self_signed
from tests.support.broker import Mosquitto
from tests.support.real import free_port


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[int]:
    """Stand-in for the appliance's web server: answers /healthz on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def pty() -> Iterator[str]:
    """A real pty standing where the USB-serial adapter would be."""
    main_fd, sub_fd = os.openpty()
    yield os.ttyname(sub_fd)
    os.close(main_fd)
    os.close(sub_fd)


def write_config(tmp_path: Path, port: int, broker: str, serial: str) -> Path:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    ensure_tls(state, "a101")
    path = tmp_path / "roomctl.toml"
    path.write_text(
        f'state_dir = "{state}"\n[room]\nid = "a101"\n[web]\nport = {port}\n'
        f'[mqtt]\nurl = "{broker}"\n'
        f'[[devices]]\nid = "projector"\ntype = "epson/escvp21"\nport = "{serial}"\n'
    )
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code = main(["doctor", "--config", str(config)])
    rows = capsys.readouterr().out.splitlines()[1:]
    return code, {row.split()[0] + (" " + row.split()[1] if row.startswith("serial") else ""):
                  row.split()[2 if row.startswith("serial") else 1] for row in rows}  # fmt: skip


def test_healthy_room_passes(
    tmp_path: Path, web: int, pty: str, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, web, f"mqtt://127.0.0.1:{mosquitto.port}", pty)
    code, status = doctor(config, capsys)
    assert status["config"] == "ok"
    assert status["display"] == "ok"
    assert status["broker"] == "ok"
    assert status["certificate"] == "ok"
    assert status["serial projector"] == "ok"
    assert status["disk"] in ("ok", "warn")
    assert status["clock"] in ("ok", "warn")
    assert code == 0


def test_broken_room_fails_with_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = free_port()
    config = write_config(tmp_path, closed, f"mqtt://127.0.0.1:{closed}", "/dev/roomctl-serial9")
    (tmp_path / "state/tls/cert.pem").unlink()
    code, status = doctor(config, capsys)
    assert code == 1
    for check in ("display", "broker", "certificate", "serial projector"):
        assert status[check] == "fail", check
    assert status["config"] == "ok"


def test_invalid_config_is_a_failure_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "roomctl.toml"
    path.write_text('[room]\nid = "a101"\n[web]\nprot = 1\n')
    assert main(["doctor", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "web.prot" in out and "fail" in out


def test_certificate_windows(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "cert.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    path.write_bytes(self_signed(key, "a101").public_bytes(Encoding.PEM))
    now = datetime.datetime.now(datetime.UTC)
    assert certificate_result(path, now).status == "ok"
    assert certificate_result(path, now + datetime.timedelta(days=810)).status == "warn"
    assert certificate_result(path, now + datetime.timedelta(days=900)).status == "fail"
    assert certificate_result(path, now - datetime.timedelta(days=2)).status == "fail"
    path.write_text("garbage")
    assert certificate_result(path, now).status == "fail"


def test_serial_paths_and_table() -> None:
    device = {"type": "x", "port": "/dev/ttyUSB0", "transport": {"path": "/dev/roomctl-serial0"}}
    assert serial_paths(device) == ["/dev/ttyUSB0", "/dev/roomctl-serial0"]
    table = format_table([Result("config", "ok", "fine"), Result("certificate", "fail", "gone")])
    assert table.splitlines()[2].split()[:2] == ["certificate", "fail"]
