"""Central dashboard: ingest rate beside mosquitto_sub, and lag with 10,000 simulated rooms.

Run: ``.venv/bin/python -m benchmarks.bench_central [N_EVENTS] [ROOMS] [SECONDS]``
(defaults 20000, 10000, 20). Everything on 127.0.0.1 with a private mosquitto.

1. Ingest, live: the dashboard (shared subscription, SQLite WAL, manual PUBACK after commit)
   and ``mosquitto_sub`` (QoS 1, plain subscription) consume the same N events published by
   4 threads; each rate = N / (last receipt - first publish).
2. Ingest, backlog: N events queued in both persistent sessions while both are down, then
   both start; rate = N / drain time.
3. 10,000 rooms: a simulator process (4 shared clients) publishes births and states for every
   room, then changes ~300 rooms a second (share start/stop: events + a state each); lag =
   receipt of the SSE push from /live (sent after the batch is committed) - the state's ``ts``.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from roomctl.central.config import BrokerConfig, CentralConfig, StoreConfig
from roomctl.central.ids import ulid
from roomctl.central.payloads import iso, parse_ts
from roomctl.central.service import CentralService
from roomctl.central.simroom import SimRoom
from roomctl.central.simulator import Simulator
from roomctl.central.web import COOKIE, run_web
from tests.support.broker import Mosquitto

BROKER_EXTRA = "max_queued_messages 0\nmax_inflight_messages 0\nmax_queued_bytes 0\n"


def _events(n: int) -> list[tuple[str, bytes]]:
    now = time.time()
    out = []
    for i in range(n):
        dev = f"rc-bench{i % 500:04x}"
        body = {"v": 1, "id": ulid(now), "dev": dev, "boot_id": "b", "seq": i // 500 + 1,
                "ts": iso(now), "type": "projector.power", "data": {"on": True}}
        out.append((f"roomctl/v1/dev/{dev}/evt/projector", json.dumps(body).encode()))
    return out


def _publish(broker: Mosquitto, messages: list[tuple[str, bytes]], threads: int = 4) -> None:
    def worker(part: list[tuple[str, bytes]]) -> None:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(200)
        c.connect(broker.host, broker.port)
        c.loop_start()
        infos = [c.publish(t, p, qos=1) for t, p in part]
        for info in infos:
            info.wait_for_publish(60)
        c.disconnect()
        c.loop_stop()

    pool = [threading.Thread(target=worker, args=(messages[i::threads],)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _sub_cmd(broker: Mosquitto, n: int) -> list[str]:
    return ["mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv5", "-q", "1",
            "-c", "-i", "bench-sub", "-x", "3600", "-t", "roomctl/v1/dev/+/evt/#", "-C", str(n)]


def _config(broker: Mosquitto, db: Path) -> CentralConfig:
    return CentralConfig(broker=BrokerConfig(url=broker.url, client_id="bench-central"),
                         store=StoreConfig(url=f"sqlite://{db}"))


async def _wait(pred: Any, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark condition not reached")
        await asyncio.sleep(0.005)
    return time.monotonic()


def bare_paho_backlog(broker: Mosquitto, n: int) -> float:
    """Drain rate of a paho QoS 1 consumer that does nothing: the ceiling of any paho ingest."""
    def client() -> tuple[mqtt.Client, threading.Event]:
        done, count = threading.Event(), [0]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare",
                        protocol=mqtt.MQTTv5)

        def on_message(_c: Any, _u: Any, _m: Any) -> None:
            count[0] += 1
            if count[0] >= n:
                done.set()

        c.on_message = on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        c.connect(broker.host, broker.port, clean_start=False, properties=props)
        return c, done

    c, _ = client()
    c.subscribe("roomctl/v1/dev/+/evt/#", 1)
    c.loop(1)
    c.disconnect()
    _publish(broker, _events(n))
    c, done = client()
    t0 = time.monotonic()
    c.loop_start()
    done.wait(120)
    rate = n / (time.monotonic() - t0)
    c.disconnect()
    c.loop_stop()
    return rate


async def ingest(n: int, work: Path) -> dict[str, float]:
    """Live and backlog ingest rates of the dashboard and of mosquitto_sub."""
    broker = Mosquitto(work / "b1", extra=BROKER_EXTRA).start()
    out: dict[str, float] = {}
    try:
        svc = CentralService(_config(broker, work / "ingest.db"))
        await svc.start()
        await _wait(svc.connected.is_set, 10)
        sub = subprocess.Popen(_sub_cmd(broker, n), stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        await asyncio.sleep(0.5)  # let mosquitto_sub subscribe (it has no readiness signal)
        messages = _events(n)
        t0 = time.monotonic()
        done_sub: list[float] = []
        waiter = threading.Thread(target=lambda: (sub.wait(), done_sub.append(time.monotonic())))
        waiter.start()
        await asyncio.to_thread(_publish, broker, messages)
        t_dash = await _wait(lambda: svc.stats["events_new"] >= n, 120)
        await asyncio.to_thread(waiter.join, 120)
        out["live_dashboard"] = n / (t_dash - t0)
        out["live_mosquitto_sub"] = n / (done_sub[0] - t0)
        await svc.stop()
        # Backlog: both sessions exist and are down; queue n more, then start both.
        messages = _events(n)
        await asyncio.to_thread(_publish, broker, messages)
        svc = CentralService(_config(broker, work / "ingest.db"))
        t0 = time.monotonic()
        sub = subprocess.Popen(_sub_cmd(broker, n), stdout=subprocess.DEVNULL)  # noqa: ASYNC220
        done_sub.clear()
        waiter = threading.Thread(target=lambda: (sub.wait(), done_sub.append(time.monotonic())))
        waiter.start()
        await svc.start()
        t_dash = await _wait(lambda: svc.stats["events_new"] >= n, 120)
        await asyncio.to_thread(waiter.join, 120)
        out["backlog_dashboard"] = n / (t_dash - t0)
        out["backlog_mosquitto_sub"] = n / (done_sub[0] - t0)
        await svc.stop()
        out["backlog_bare_paho"] = await asyncio.to_thread(bare_paho_backlog, broker, n)
    finally:
        broker.stop()
    return out


def sim_process(url: str, rooms: int, seconds: float, rate: float) -> None:
    """The load generator (run in its own process): births, states, then share churn."""
    async def run() -> None:
        sim = Simulator(url, rooms, speed=1, clients=4, outages=False, tick_s=3600)
        await sim.start()
        print("ready", flush=True)
        ids = list(sim.rooms)
        rng = random.Random(7)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for device_id in rng.sample(ids, int(rate / 10)):
                room = sim.rooms[device_id]
                sim.act(device_id, SimRoom.stop_cast if room.casting else SimRoom.start_cast)
            await asyncio.sleep(0.1)
        print(f"published {sim.published}", flush=True)
        await sim.stop(graceful=False)

    asyncio.run(run())


async def fleet(rooms: int, seconds: float, work: Path, rate: float = 300) -> dict[str, float]:
    """Lag from a state message to its SSE push, with ``rooms`` simulated rooms."""
    broker = Mosquitto(work / "b2", extra=BROKER_EXTRA).start()
    svc = CentralService(_config(broker, work / "fleet.db"))
    await svc.start()
    await _wait(svc.connected.is_set, 10)
    lags: list[float] = []
    try:
        async with run_web(svc, port=0) as port:
            await svc.store.put_session("bench", "bench", "viewer", time.time() + 3600)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.bench_central", "--sim", broker.url, str(rooms),
                str(seconds), str(rate), stdout=subprocess.PIPE)
            assert proc.stdout is not None
            await proc.stdout.readline()
            await _wait(lambda: len(svc.fleet.devices) >= rooms, 120)
            t_loaded = time.time()
            async with aiohttp.ClientSession(cookies={COOKIE: "bench"}) as http, \
                    http.get(f"http://127.0.0.1:{port}/live") as resp:
                reader = asyncio.create_task(_read_sse(resp, lags, t_loaded))
                await proc.wait()
                reader.cancel()
    finally:
        await svc.stop()
        broker.stop()
    lags.sort()
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]  # noqa: E731
    return {"samples": len(lags), "p50_ms": pick(0.5) * 1000, "p95_ms": pick(0.95) * 1000,
            "p99_ms": pick(0.99) * 1000, "max_ms": lags[-1] * 1000,
            "messages": svc.stats["messages"]}


async def _read_sse(resp: aiohttp.ClientResponse, lags: list[float], after: float) -> None:
    async for line in resp.content:
        if line.startswith(b"data: "):
            update = json.loads(line[6:])
            if update.get("ts"):
                sent = parse_ts(update["ts"])
                if sent > after:
                    lags.append(time.time() - sent)


async def main(n: int, rooms: int, seconds: float) -> None:
    """Run both benchmarks and print the figures."""
    if not shutil.which("mosquitto_sub"):
        raise SystemExit("mosquitto_sub is needed (mosquitto-clients)")
    work = Path(tempfile.mkdtemp(prefix="bench-central-"))
    try:
        rates = await ingest(n, work)
        for k, v in rates.items():
            print(f"ingest {k}: {v:,.0f} events/s")
        print(f"ratio live {rates['live_dashboard'] / rates['live_mosquitto_sub']:.2f}, "
              f"backlog {rates['backlog_dashboard'] / rates['backlog_mosquitto_sub']:.2f}")
        figures = await fleet(rooms, seconds, work)
        print(f"{rooms} rooms, {seconds:.0f} s churn: " + ", ".join(
            f"{k} {v:,.0f}" for k, v in figures.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sim":
        sim_process(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]))
    else:
        args = [*sys.argv[1:], "", "", ""]
        asyncio.run(main(int(args[0] or 20000), int(args[1] or 10000), float(args[2] or 20)))
