"""One appliance process for the browser tests of a module, and QR decoding with zbar."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.appliance import DISPLAY_KEY, ApplianceProcess, start_appliance
from tests.support.browser import MEDIA_PERMISSIONS, until
from tests.support.real import require_binary


def _start(tmp: Path, period_s: int, grace: int) -> ApplianceProcess:
    return start_appliance(
        tmp,
        web={"display_hosts": []},  # only the context holding the display key is the display
        pairing={"period_s": period_s, "grace_windows": grace},
        links=[{"title": "ViLLE", "url": "https://ville.utu.fi/"}],
    )


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApplianceProcess]:
    """A real appliance with the default pairing period."""
    proc = _start(tmp_path_factory.mktemp("appliance"), 60, 1)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def fast_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApplianceProcess]:
    """A real appliance whose code rotates every 8 s with no grace window."""
    proc = _start(tmp_path_factory.mktemp("fast"), 8, 0)
    yield proc
    proc.stop()


def new_page(browser: Any, **kw: Any) -> Any:
    """A page in a fresh context (its own cookies), ready for WebRTC on loopback."""
    context = browser.new_context(permissions=MEDIA_PERMISSIONS, **kw)
    context.set_default_timeout(45_000)  # a loaded 2-core machine is slow, not broken
    return context.new_page()


def open_display(browser: Any, base: str) -> Any:
    """The room display, authenticated by its display key."""
    page = new_page(browser, viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/display?display_key={DISPLAY_KEY}")
    until(page, "document.getElementById('code').dataset.code?.length === 6")
    until(
        page,
        "document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0",
    )
    return page


def decode_qr(png: Path) -> str:
    """The text of the QR code in ``png``, decoded by zbar."""
    zbarimg = require_binary("zbarimg")
    out = subprocess.run(
        [zbarimg, "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, f"zbarimg found no QR code: {out.stderr}"
    return out.stdout.strip()
