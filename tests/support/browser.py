"""Headless Debian Chromium through Playwright, with the flags measured to work here.

See ../shared/reference/webrtc-testing.md: tab capture is auto-accepted for
``getDisplayMedia({preferCurrentTab: true})``, and loopback ICE candidates need
``--allow-loopback-in-peer-connection`` plus a media permission in every context.
"""

from __future__ import annotations

from tests.support.real import require_binary

CHROMIUM_ARGS = [
    "--auto-accept-this-tab-capture",
    "--allow-loopback-in-peer-connection",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

# Every context that holds an RTCPeerConnection needs one of these (loopback candidates).
MEDIA_PERMISSIONS = ["microphone", "camera"]


def chromium_path() -> str:
    """Debian's chromium binary (never a downloaded browser build)."""
    return require_binary("chromium")


def until(page: object, expression: str, timeout: float = 20.0) -> object:
    """Poll a JavaScript expression until truthy.

    ``page.wait_for_function`` compiles its predicate with ``new Function``, which our
    Content-Security-Policy (no 'unsafe-eval') rightly blocks; ``evaluate`` goes through the
    DevTools protocol and is not subject to the page's CSP.
    """
    from tests.support.real import wait_for

    return wait_for(lambda: page.evaluate(expression), timeout, expression)  # type: ignore[attr-defined]
