"""HTTPS with a school CA or a self-signed certificate, and the HTTP → HTTPS redirect."""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from cryptography import x509

from tests.support.appliance import ApplianceProcess, base_config
from tests.support.real import free_port


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roomctl", *args], capture_output=True, text=True, timeout=60
    )


def test_ca_issues_a_room_certificate_with_names(tmp_path: Path) -> None:
    assert run_cli("certs", "init", "--dir", str(tmp_path / "ca")).returncode == 0
    out = run_cli(
        "certs", "issue", "--room", "A101", "--dns", "a101.koulu.example", "--ip", "10.1.2.3",
        "--ca-dir", str(tmp_path / "ca"), "--out", str(tmp_path / "room"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    cert = x509.load_pem_x509_certificate((tmp_path / "room" / "A101.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["a101.koulu.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    ca = x509.load_pem_x509_certificate((tmp_path / "ca" / "ca.crt").read_bytes())
    assert cert.issuer == ca.subject
    assert (tmp_path / "room" / "A101.key").stat().st_mode & 0o777 == 0o600


def test_tls_serves_https_and_redirects_http(tmp_path: Path) -> None:
    run_cli("certs", "init", "--dir", str(tmp_path / "ca"))
    run_cli(
        "certs", "issue", "--room", "T101", "--dns", "localhost", "--ip", "127.0.0.1",
        "--ca-dir", str(tmp_path / "ca"), "--out", str(tmp_path / "tls"),
    )  # fmt: skip
    port, tls_port = free_port(), free_port()
    tls = tmp_path / "tls"
    web = {
        "port": port, "tls_port": tls_port, "display_hosts": [],
        "tls_cert": str(tls / "T101.crt"), "tls_key": str(tls / "T101.key"),
    }  # fmt: skip
    app = ApplianceProcess(tmp_path / "app", base_config(tmp_path / "state", port, web=web)).start()
    try:
        trust = ssl.create_default_context(cafile=str(tmp_path / "ca" / "ca.crt"))
        with urllib.request.urlopen(
            f"https://127.0.0.1:{tls_port}/api/v1/health", context=trust
        ) as r:
            assert r.status == 200
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"http://127.0.0.1:{port}/room?x=1")
            raise AssertionError("expected a redirect")
        except urllib.error.HTTPError as err:
            assert err.code == 308
            assert err.headers["Location"] == f"https://127.0.0.1:{tls_port}/room?x=1"
    finally:
        app.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
