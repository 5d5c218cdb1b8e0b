"""A miIO device emulator: plug, power strip, air-quality monitor and Yeelight on UDP 54321.

Written from the wire format, not from python-miio's protocol code, so python-miio talks to an
independent peer. A packet is a 32-byte header (magic 0x2131, total length, 4 unknown bytes,
device id, a seconds counter, a 16-byte MD5 checksum over header + token + payload) followed by
the JSON payload encrypted with AES-128-CBC, key = MD5(token), IV = MD5(key + token), PKCS#7.
A hello (32 bytes, all 0xff after the length) gets a bare header back; the checksum field of
that reply is all 0xff, as on devices already bound to the cloud (they no longer hand out the
token). Commands whose checksum does not match our token are dropped without a reply, which
is what real devices do with a wrong token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import logging
import random
import string
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

logger = logging.getLogger(__name__)

PORT = 54321
MAGIC = 0x2131
HEADER = struct.Struct(">HHIII16s")  # magic, length, unknown, device id, stamp, checksum
HELLO = bytes.fromhex("21310020" + "ff" * 28)
DEFAULT_MODELS = {
    "plug": "chuangmi.plug.v3",
    "powerstrip": "zimi.powerstrip.v2",
    "airmonitor": "cgllc.airmonitor.s1",
    "yeelight": "yeelink.light.lamp1",
}
FAULTS = ("none", "silent", "mute", "garbage")
METHOD_NOT_FOUND = {"code": -32601, "message": "Method not found."}


# -- the wire format -----------------------------------------------------------------------


def md5(data: bytes) -> bytes:
    """MD5 digest (the protocol's checksum and key derivation)."""
    return hashlib.md5(data).digest()  # the protocol mandates MD5


def key_iv(token: bytes) -> tuple[bytes, bytes]:
    """The AES key and IV derived from a 16-byte token."""
    key = md5(token)
    return key, md5(key + token)


def encrypt(plain: bytes, token: bytes) -> bytes:
    """AES-128-CBC with PKCS#7 padding under the token's key and IV."""
    key, iv = key_iv(token)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()


def decrypt(data: bytes, token: bytes) -> bytes:
    """Reverse of ``encrypt``; ValueError on bad padding or length."""
    key, iv = key_iv(token)
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def pack(device_id: int, stamp: int, token: bytes, payload: dict[str, Any]) -> bytes:
    """One encrypted, checksummed packet carrying ``payload`` as JSON."""
    body = encrypt(json.dumps(payload).encode() + b"\x00", token)
    head = HEADER.pack(MAGIC, HEADER.size + len(body), 0, device_id, stamp, token)
    return head[:16] + md5(head + body) + body


def hello_reply(device_id: int, stamp: int) -> bytes:
    """The answer to a hello: a bare header with the device id and its seconds counter."""
    return HEADER.pack(MAGIC, HEADER.size, 0, device_id, stamp, b"\xff" * 16)


def unpack(data: bytes, token: bytes) -> dict[str, Any]:
    """The JSON payload of a command packet; ValueError when it is not one for ``token``."""
    if len(data) < HEADER.size + 16:
        raise ValueError("too short")
    magic, length, _, _, _, checksum = HEADER.unpack_from(data)
    if magic != MAGIC or length != len(data):
        raise ValueError("bad magic or length")
    if md5(data[:16] + token + data[32:]) != checksum:
        raise ValueError("checksum mismatch (wrong token)")
    request = json.loads(decrypt(data[32:], token).rstrip(b"\x00"))
    if not isinstance(request, dict):
        raise ValueError("payload is not an object")
    return request


# -- the devices -----------------------------------------------------------------------------


def _drift(value: float, spread: float) -> float:
    return round(value + random.uniform(-spread, spread), 1)


class Model:
    """State and JSON-RPC methods of one emulated device."""

    def __init__(self, model: str, host: str) -> None:
        self.model = model
        self.host = host
        self.power = True
        self.brightness = 80
        self.load_w = 12.5
        self.air: dict[str, float] = {
            "co2": 640.0,
            "pm25": 6.0,
            "tvoc": 120.0,
            "temperature": 21.4,
            "humidity": 38.0,
        }
        self.started = time.monotonic()

    def family(self) -> str:
        """plug | powerstrip | airmonitor | yeelight."""
        prefix = self.model.split(".")[0]
        if prefix == "yeelink":
            return "yeelight"
        if prefix == "cgllc":
            return "airmonitor"
        return "powerstrip" if ".powerstrip." in self.model else "plug"

    def call(self, method: str, params: Any) -> Any:
        """The ``result`` for ``method``; KeyError for a method this model lacks."""
        if method == "miIO.info":
            return self.info()
        handler: Callable[[Any], Any] = getattr(self, f"_{self.family()}_{method}")
        return handler(params)

    def info(self) -> dict[str, Any]:
        """The ``miIO.info`` answer, shaped like a real device's."""
        return {
            "life": int(time.monotonic() - self.started),
            "model": self.model,
            "token": "",
            "fw_ver": "1.4.1_176",
            "hw_ver": "MW300",
            "mac": "78:11:DC:00:00:01",
            "wifi_fw_ver": "SD878x-14.76.36.p84-702.1.0-WM",
            "ap": {"ssid": "classroom", "bssid": "00:00:00:00:00:00", "rssi": -52},
            "netif": {"localIp": self.host, "mask": "255.0.0.0", "gw": "127.0.0.1"},
        }

    def _on_off(self, params: Any) -> list[str]:
        if not isinstance(params, list) or not params or params[0] not in ("on", "off"):
            raise ValueError("params")
        self.power = params[0] == "on"
        return ["ok"]

    # chuangmi.plug.*: m1/v2 report "power" ("on"/"off"); v1/v3 report "on" (a boolean).
    def _plug_get_prop(self, params: Any) -> list[Any]:
        values = {
            "power": "on" if self.power else "off",
            "on": self.power,
            "usb_on": True,
            "temperature": 38,
            "wifi_led": "on",
        }
        return [values.get(p) for p in params]

    def _plug_get_power(self, params: Any) -> list[int]:
        # chuangmi.plug.v3 answers in hundredths of a watt
        return [round(self.load_w * 100) if self.power else 0]

    _plug_set_power = _on_off

    def _powerstrip_get_prop(self, params: Any) -> list[Any]:
        values = {
            "power": "on" if self.power else "off",
            "temperature": 37.5,
            "current": round(self.load_w / 230, 3) if self.power else 0.0,
            "mode": "normal",
            "power_consume_rate": self.load_w if self.power else 0.0,
            "wifi_led": "on",
            "power_price": 999,
            "voltage": 230.1,
            "power_factor": 0.92,
            "elec_leakage": 0,
        }
        return [values.get(p) for p in params]

    _powerstrip_set_power = _on_off

    def _air_values(self) -> dict[str, Any]:
        return {
            "co2": round(_drift(self.air["co2"], 2)),
            "pm25": round(_drift(self.air["pm25"], 0.4)),
            "tvoc": round(_drift(self.air["tvoc"], 3)),
            "temperature": _drift(self.air["temperature"], 0.05),
            "humidity": round(_drift(self.air["humidity"], 0.3)),
            "battery": 100,
        }

    # cgllc.airmonitor.s1 answers get_prop with an object, not a list
    def _airmonitor_get_prop(self, params: Any) -> dict[str, Any]:
        values = self._air_values()
        return {p: values.get(p) for p in params}

    def _airmonitor_get_air_data(self, params: Any) -> dict[str, Any]:
        values = self._air_values()
        return {
            "co2e": values["co2"],
            "humidity": values["humidity"],
            "pm25": values["pm25"],
            "temperature": values["temperature"],
            "temperature_unit": "c",
            "tvoc": round(values["tvoc"] / 1000, 3),
            "tvoc_unit": "mg_m3",
        }

    def _yeelight_get_prop(self, params: Any) -> list[str]:
        values = {
            "power": "on" if self.power else "off",
            "bright": str(self.brightness),
            "color_mode": "2",
            "ct": "4000",
            "flowing": "0",
            "lan_ctrl": "1",
            "save_state": "1",
            "delayoff": "0",
        }
        return [values.get(p, "") for p in params]

    _yeelight_set_power = _on_off

    def _yeelight_set_bright(self, params: Any) -> list[str]:
        level = params[0] if isinstance(params, list) and params else None
        if not isinstance(level, int) or not 1 <= level <= 100:
            raise ValueError("params")
        self.brightness = level
        return ["ok"]


@dataclass
class Stats:
    """What the emulator saw (for tests)."""

    hellos: int = 0
    commands: int = 0
    dropped: int = 0
    methods: list[tuple[float, str]] = field(default_factory=list)  # (monotonic, method)


class MiioEmulator(asyncio.DatagramProtocol):
    """One emulated device on ``host``:``port`` (UDP); ``fault`` and ``answering`` steer it."""

    def __init__(
        self, kind: str, host: str, token: str, *, model: str = "", port: int = PORT
    ) -> None:
        self.host = host
        self.port = port
        self.token = bytes.fromhex(token)
        self.device = Model(model or DEFAULT_MODELS[kind], host)
        self.device_id = 0x0100_0000 + random.randrange(1 << 20)
        self.fault = "none"
        self.answering = True
        self.stats = Stats()
        self._boot = time.monotonic() - random.randrange(1000, 100000)
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        """Bind the UDP socket."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.host, self.port)
        )
        self._transport = transport

    async def stop(self) -> None:
        """Close the socket; safe to call twice."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        """Answer one packet (or not, depending on the fault)."""
        reply = self.handle(data)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def stamp(self) -> int:
        """The device's seconds-since-boot counter."""
        return int(time.monotonic() - self._boot)

    def handle(self, data: bytes) -> bytes | None:
        """The reply to one datagram, or None to stay silent."""
        if not self.answering or self.fault == "silent":
            return None
        if data == HELLO:
            self.stats.hellos += 1
            return hello_reply(self.device_id, self.stamp())
        if self.fault == "mute":
            return None
        if self.fault == "garbage":
            return random.randbytes(48)
        try:
            request = unpack(data, self.token)
        except (ValueError, UnicodeDecodeError):
            self.stats.dropped += 1
            return None
        self.stats.commands += 1
        self.stats.methods.append((time.monotonic(), str(request.get("method"))))
        return pack(self.device_id, self.stamp(), self.token, self.answer(request))

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The JSON-RPC answer to one request."""
        rid = request.get("id")
        try:
            return {
                "id": rid,
                "result": self.device.call(str(request.get("method")), request.get("params")),
            }
        except AttributeError:
            return {"id": rid, "error": METHOD_NOT_FOUND}
        except (ValueError, TypeError, IndexError):
            return {"id": rid, "error": {"code": -5001, "message": "invalid_arg"}}


@contextlib.contextmanager
def running(kind: str, host: str, token: str, *, model: str = "") -> Iterator[MiioEmulator]:
    """Run an emulator on its own event loop thread (for blocking clients such as python-miio)."""
    emulator = MiioEmulator(kind, host, token, model=model)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(emulator.start())
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.run_until_complete(emulator.stop())
        loop.close()

    thread = threading.Thread(target=main, name=f"miio-emulator-{host}", daemon=True)
    thread.start()
    if not ready.wait(5):
        raise RuntimeError(f"miio emulator on {host} did not start")
    try:
        yield emulator
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def serve(args: argparse.Namespace) -> int:
    """``roomctl emulate --miio KIND --host 127.0.0.N --token HEX [--fault F]``: run until ^C."""
    kind = str(args.miio)
    host = str(getattr(args, "host", None) or "127.0.0.1")
    token = str(getattr(args, "token", None) or "00" * 16)
    if kind not in DEFAULT_MODELS:
        print(f"unknown miio kind {kind!r}; choose from {', '.join(DEFAULT_MODELS)}")
        return 2
    if not host.startswith("127.") and host != "::1":
        print("the miio emulator binds to loopback addresses only (127.0.0.N)")
        return 2
    if len(token) != 32 or token.strip(string.hexdigits):
        print("--token must be 32 hex digits")
        return 2
    return asyncio.run(_serve(kind, host, token, str(getattr(args, "fault", None) or "none")))


async def _serve(kind: str, host: str, token: str, fault: str) -> int:
    emulator = MiioEmulator(kind, host, token, model=DEFAULT_MODELS[kind])
    emulator.fault = fault if fault in FAULTS else "none"
    await emulator.start()
    print(f"miio {emulator.device.model} listening on udp://{host}:{PORT}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
    return 0
