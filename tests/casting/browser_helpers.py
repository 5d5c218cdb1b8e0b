"""Browser-side helpers for the casting tests: QR decoding, joining, painting, frame checks."""

from __future__ import annotations

import subprocess
import tempfile
from typing import Any

from tests.support.appliance import DISPLAY_KEY, TEACHER_PIN
from tests.support.browser import MEDIA_PERMISSIONS, until
from tests.support.real import require_binary, wait_for

# Sharers capture their own tab (the flag --auto-accept-this-tab-capture needs preferCurrentTab).
CAST_HOOK = "window.roomctlCast = { preferCurrentTab: true, audio: false };"

# The captured page paints a known colour and keeps repainting (tab capture only sends a frame
# when the tab repaints).
PAINT = """(colour) => {
  const cover = document.createElement('div');
  cover.id = 'paint';
  cover.style.cssText = `position:fixed;inset:0;background:${colour};pointer-events:none;`
    + 'z-index:9999';
  const dot = document.createElement('div');
  dot.style.cssText = 'position:absolute;left:0;top:0;width:4px;height:4px;background:#000';
  cover.append(dot);
  document.body.append(cover);
  let i = 0;
  const step = () => { i = (i + 1) % 50; dot.style.left = i + 'px'; requestAnimationFrame(step); };
  requestAnimationFrame(step);
}"""

# Decoded video of one tile: size, frames decoded and the centre pixel.
TILE_STATE = """async (shareId) => {
  const st = window.__cast;
  const tile = document.querySelector(`#stage .tile[data-share="${shareId}"] video`);
  const peer = st.peers.get(shareId);
  if (!tile || !peer || !tile.videoWidth) return null;
  let frames = 0;
  (await peer.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded;
  });
  const c = document.createElement('canvas');
  c.width = 16; c.height = 16;
  const g = c.getContext('2d');
  g.drawImage(tile, tile.videoWidth / 2 - 8, tile.videoHeight / 2 - 8, 16, 16, 0, 0, 16, 16);
  const px = Array.from(g.getImageData(8, 8, 1, 1).data.slice(0, 3));
  return { width: tile.videoWidth, frames, px };
}"""


def new_page(browser: Any, url: str, *, sharer: bool = False) -> Any:
    """A page in a fresh context with the media permission (loopback ICE needs it)."""
    context = browser.new_context(
        permissions=MEDIA_PERMISSIONS, viewport={"width": 640, "height": 360}
    )
    if sharer:
        context.add_init_script(CAST_HOOK)
    page = context.new_page()
    page.goto(url)
    return page


def display_url(base: str) -> str:
    return f"{base}/display?display_key={DISPLAY_KEY}"


def qr_url(display: Any) -> str:
    """Screenshot the display's QR element and decode it with zbarimg."""
    zbarimg = require_binary("zbarimg")
    qr = display.locator("#qr")
    qr.wait_for(state="visible")
    # until(), not wait_for_function: that polls with eval(), which the pages' CSP refuses
    # as soon as its first check comes back false (it did on CI, where the image was slower).
    until(display, "(q => q.complete && q.naturalWidth > 0)(document.getElementById('qr'))")
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        qr.screenshot(path=f.name)
        out = subprocess.run(
            [zbarimg, "--raw", "-q", f.name], capture_output=True, text=True, timeout=10
        )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def join(page: Any, url: str, name: str, *, teacher: bool = False, code: str = "") -> None:
    """Join through the QR's URL (or the join page and a typed ``code``); a teacher then
    enters the PIN."""
    page.goto(url)
    if code:
        page.fill("#code", code)
    page.fill("#name", name)
    page.click("#join-form button[type=submit]")
    page.wait_for_url("**/room")
    if teacher:
        page.goto(url.split("/?")[0].rstrip("/") + "/control")
        page.fill("#pin", TEACHER_PIN)
        page.click("#pin-form button[type=submit]")
        page.wait_for_selector("#teacher:not([hidden])")


def share(page: Any, colour: str) -> None:
    """Paint, then press the share button on /room."""
    page.wait_for_selector("#cast-share")
    page.evaluate(PAINT, colour)
    page.click("#cast-share")


def live_share_id(page: Any) -> str:
    """The sharer's share id once the share is live."""
    wait_for(lambda: page.evaluate("window.__cast.status") == "live", 10, "share to go live")
    return str(page.evaluate("window.__cast.shareId"))


def decoding(display: Any, share_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """Wait until the display decodes frames of ``share_id`` and they keep coming."""
    first = wait_for(
        lambda: display.evaluate(TILE_STATE, share_id), timeout, f"frames of {share_id}"
    )
    assert isinstance(first, dict)

    def rising() -> Any:
        now = display.evaluate(TILE_STATE, share_id)
        return now if now and now["frames"] > first["frames"] + 5 else None

    later = wait_for(rising, timeout, "framesDecoded to rise")
    assert isinstance(later, dict)
    return later


def close_to(px: list[int], rgb: tuple[int, int, int], tol: int = 60) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px, rgb, strict=True))
