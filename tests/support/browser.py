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
