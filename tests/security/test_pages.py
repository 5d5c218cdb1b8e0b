"""Pages: no link off-site from a crafted path, and cookie flags that keep secrets on HTTPS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import ssl
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from roomctl.http.app import make_app
from roomctl.room import Room
from tests.support.appliance import CARETAKER_PASSWORD
from tests.support.real import free_port


async def raw_get(port: int, target: str) -> str:
    """The response to a request line the client libraries refuse to send (``//host``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    return data.decode(errors="replace")


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "//evil.example"])
async def test_language_links_stay_on_the_appliance(
    client: TestClient[Any, Any], target: str
) -> None:
    page = await raw_get(client.port, target)
    hrefs = re.findall(r'<a href="([^"]*)"[^>]*hreflang=', page)
    assert len(hrefs) == 3, page[:400]
    for href in hrefs:  # browsers read a backslash as a slash
        assert not href.replace("\\", "/").startswith("//"), href


def self_signed(tmp: Path) -> ssl.SSLContext:
    """A server context with a throwaway certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp / "c.pem", tmp / "k.pem")
    return ctx


@pytest.fixture
async def https_url(room: Room, tmp_path: Path) -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(room), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=self_signed(tmp_path)).start()
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()


def cookie_of(resp: aiohttp.ClientResponse, name: str) -> dict[str, Any]:
    """The attributes of the ``name`` cookie the response sets."""
    jar: SimpleCookie = SimpleCookie()
    for header in resp.headers.getall("Set-Cookie", []):
        jar.load(header)
    assert name in jar, resp.headers.getall("Set-Cookie", [])
    return dict(jar[name])


async def test_cookies_set_over_https_are_secure_httponly_strict(https_url: str) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as s:
        async with s.get(f"{https_url}/display?display_key=display-key-for-tests") as resp:
            display = cookie_of(resp, "roomctl_display")
        async with s.post(
            f"{https_url}/api/v1/login", json={"password": CARETAKER_PASSWORD}
        ) as resp:
            assert resp.status == 200
            session = cookie_of(resp, "roomctl_session")
    for cookie in (display, session):
        # without Secure the browser sends the display key in clear to port 80 before the
        # redirect, where anyone on the school network can read it
        assert cookie["secure"] and cookie["httponly"], cookie
        assert cookie["samesite"] == "Strict", cookie
