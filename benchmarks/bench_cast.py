"""Casting figures in real headless Chromium against a real ``roomctl run``.

    .venv/bin/python -m benchmarks.bench_cast [RUNS] [CPU_SECONDS]

* share click -> first decoded frame on the display (RUNS fresh shares, tab capture)
* glass-to-glass: a canvas source stamps Date.now() as 24 black/white cells on every frame; the
  display reads the cells back from the decoded video (same browser, same clock)
* sustained fps and frame size of a 1920x1080 tab share, RUNS one-second samples
* CPU of the roomctl process: CPU_SECONDS idle, then CPU_SECONDS while sharing
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.casting.browser_helpers import PAINT, display_url, join, new_page, qr_url
from tests.support.appliance import start_appliance
from tests.support.browser import CHROMIUM_ARGS, chromium_path
from tests.support.real import wait_for

STAMP_SOURCE = """() => {
  window.roomctlCast.source = async () => {
    const c = document.createElement('canvas');
    c.width = 1280; c.height = 720;
    const g = c.getContext('2d');
    const draw = () => {
      const t = Date.now() & 0xffffff;
      g.fillStyle = '#808080'; g.fillRect(0, 0, 1280, 720);
      for (let i = 0; i < 24; i++) {
        g.fillStyle = (t >> i) & 1 ? '#fff' : '#000';
        g.fillRect((i % 12) * 100 + 40, Math.floor(i / 12) * 100 + 40, 80, 80);
      }
      requestAnimationFrame(draw);
    };
    draw();
    return c.captureStream(60);
  };
}"""

STAMP_READER = """(shareId) => {
  const video = document.querySelector(`#stage .tile[data-share="${shareId}"] video`);
  window.__lat = [];
  const c = document.createElement('canvas');
  const g = c.getContext('2d', { willReadFrequently: true });
  const onFrame = () => {
    const now = Date.now() & 0xffffff;
    c.width = video.videoWidth; c.height = video.videoHeight;
    g.drawImage(video, 0, 0);
    const sx = video.videoWidth / 1280, sy = video.videoHeight / 720;
    let t = 0;
    for (let i = 0; i < 24; i++) {
      const x = ((i % 12) * 100 + 80) * sx, y = (Math.floor(i / 12) * 100 + 80) * sy;
      if (g.getImageData(x, y, 1, 1).data[0] > 128) t |= 1 << i;
    }
    const d = (now - t + 0x1000000) % 0x1000000;
    if (d < 5000) window.__lat.push(d);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime in clock ticks (100 Hz)


def start_share(teacher: Any) -> str:
    teacher.wait_for_selector("#cast-share")
    teacher.evaluate("() => { window.__clickAt = Date.now(); }")
    teacher.click("#cast-share")
    wait_for(lambda: teacher.evaluate("window.__cast.status") == "live", 10, "live")
    return str(teacher.evaluate("window.__cast.shareId"))


def stop_share(teacher: Any, display: Any) -> None:
    teacher.click("#cast-stop")
    wait_for(lambda: display.evaluate("window.__cast.peers.size") == 0, 10, "share to end")


def first_frame(teacher: Any, display: Any) -> float:
    share_id = start_share(teacher)
    script = f"window.__cast.peers.get('{share_id}')?.firstFrameAt"
    at = wait_for(lambda: display.evaluate(script), 10, "first frame")
    ms = float(at) - float(teacher.evaluate("window.__clickAt"))  # type: ignore[arg-type]
    stop_share(teacher, display)
    return ms


def bench(runs: int, cpu_seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        app = start_appliance(Path(tmp), web={"display_hosts": []})
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            display = new_page(browser, display_url(app.url))
            display.set_viewport_size({"width": 1920, "height": 1080})
            url = qr_url(display)
            teacher = new_page(browser, "about:blank", sharer=True)
            join(teacher, url, "Bench", teacher=True)
            teacher.goto(f"{app.url}/room")
            teacher.evaluate(PAINT, "rgb(255,0,0)")
            first_frame(teacher, display)  # warm-up
            times = [first_frame(teacher, display) for _ in range(runs)]
            print(
                f"share click -> first decoded frame, {runs} runs: p50 {pct(times, 50):.0f} ms, "
                f"p95 {pct(times, 95):.0f} ms, min {min(times):.0f}, max {max(times):.0f}"
            )
            fps_and_size(teacher, display, runs)
            cpu(app.proc.pid if app.proc else 0, teacher, display, cpu_seconds)
            glass_to_glass(teacher.context, app.url, display, runs)
        finally:
            browser.close()
            app.stop()


FRAMES = """async () => {
  const [peer] = window.__cast.peers.values();
  let out = null;
  if (!peer) return null;
  (await peer.pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out = [s.framesDecoded, s.frameWidth,
      s.frameHeight, s.framesDropped || 0];
  });
  return out;
}"""


def fps_and_size(teacher: Any, display: Any, runs: int) -> None:
    teacher.set_viewport_size({"width": 1920, "height": 1080})
    for preset in ("slides", "video"):
        teacher.select_option("#cast-preset", preset)
        start_share(teacher)
        wait_for(lambda: (display.evaluate(FRAMES) or [0])[0] > 30, 15, "frames")
        fps, sizes = [], set()
        for _ in range(runs):
            a = display.evaluate(FRAMES)
            time.sleep(1.0)  # a benchmark's sampling interval, not a wait for state
            b = display.evaluate(FRAMES)
            fps.append(float(b[0] - a[0]))
            sizes.add(f"{b[1]}x{b[2]}")
        print(
            f"sustained 1920x1080 tab share, preset {preset} ({runs} x 1 s): median "
            f"{statistics.median(fps):.1f} fps, min {min(fps):.0f}, max {max(fps):.0f}; "
            f"decoded sizes {sorted(sizes)}; dropped {b[3]}"
        )
        stop_share(teacher, display)
    teacher.select_option("#cast-preset", "slides")


def cpu(pid: int, teacher: Any, display: Any, seconds: float) -> None:
    before = cpu_s(pid)
    time.sleep(seconds)  # measuring idle CPU over a fixed window
    idle = cpu_s(pid) - before
    start_share(teacher)
    before = cpu_s(pid)
    time.sleep(seconds)  # measuring CPU during a share over the same window
    sharing = cpu_s(pid) - before
    stop_share(teacher, display)
    print(
        f"roomctl process CPU over {seconds:.0f} s: idle {100 * idle / seconds:.2f} %, "
        f"sharing {100 * sharing / seconds:.2f} % of one core"
    )


def glass_to_glass(teacher_context: Any, base: str, display: Any, runs: int) -> None:
    page = teacher_context.new_page()  # the QR token has expired by now; the session has not
    page.goto(f"{base}/room")
    page.evaluate("() => { window.roomctlCast.preferCurrentTab = false; }")
    page.evaluate(STAMP_SOURCE)
    share_id = start_share(page)
    wait_for(
        lambda: display.evaluate(
            f"!!document.querySelector('.tile[data-share=\"{share_id}\"] video')?.videoWidth"
        ),
        10,
        "video",
    )
    display.evaluate(STAMP_READER, share_id)
    need = max(runs, 20) * 10
    wait_for(lambda: display.evaluate("window.__lat.length") >= need, 30, "stamped frames")
    lat = [float(x) for x in display.evaluate("window.__lat")]
    print(
        f"glass-to-glass (canvas stamp, {len(lat)} frames): p50 {pct(lat, 50):.0f} ms, "
        f"p95 {pct(lat, 95):.0f} ms, min {min(lat):.0f} ms"
    )
    page.close()


if __name__ == "__main__":
    bench(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20,
        float(sys.argv[2]) if len(sys.argv) > 2 else 60.0,
    )
