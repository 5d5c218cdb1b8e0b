"""``roomctl doctor``: check a running Pi and print a table of ok / warn / fail.

Checks the config, serial devices, the display page's server, the TLS certificate, the MQTT
broker, the clock and disk space. Exits 1 when any check fails, so scripts and Ansible can use it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import os
import shutil
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography import x509

from roomctl.config.loader import load_config
from roomctl.config.model import Config
from roomctl.core.errors import ConfigError, DeviceError
from roomctl.drivers.registry import factory_path
from roomctl.telemetry import system

Status = Literal["ok", "warn", "fail"]
TIMEOUT_S = 3.0
CERT_WARN_DAYS = 30


@dataclass(frozen=True)
class Result:
    """The outcome of one check."""

    check: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Context:
    """What the checks look at."""

    config_path: Path
    config: Config | None
    probe: bool = False


def check_config(ctx: Context) -> Iterator[Result]:
    """The config file parses and validates."""
    try:
        load_config(ctx.config_path)
    except ConfigError as err:
        for issue in err.issues:
            yield Result("config", "fail", str(issue))
        return
    yield Result("config", "ok", str(ctx.config_path))


def serial_paths(device: Mapping[str, Any]) -> list[str]:
    """Every ``/dev/...`` path named in a device section (port, serial, path, ...)."""
    values = [v for v in device.values() if isinstance(v, str)]
    nested = [v for sub in device.values() if isinstance(sub, Mapping) for v in sub.values()]
    return [v for v in [*values, *nested] if isinstance(v, str) and v.startswith("/dev/")]


async def probe_device(device: Mapping[str, Any]) -> None:
    """Connect to the device through its driver and poll it once."""
    module, _, name = factory_path(str(device.get("type", ""))).partition(":")
    driver = getattr(importlib.import_module(module), name)(device)
    try:
        async with asyncio.timeout(TIMEOUT_S * 2):
            await driver.connect()
            await driver.poll()
    finally:
        await driver.close()


def _probe(device: Mapping[str, Any]) -> Result:
    label = f"serial {device.get('id', device.get('name', ''))}".strip()
    try:
        asyncio.run(probe_device(device))
    except (DeviceError, TimeoutError) as err:
        return Result(label, "fail", f"not answering: {err or type(err).__name__}")
    except Exception as err:  # a driver that cannot be built here is not the device's fault
        return Result(label, "warn", f"cannot probe: {type(err).__name__}: {err}")
    return Result(label, "ok", "answering")


def _present(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError as err:
        return f"{path} missing ({err.strerror}); is the USB-serial adapter plugged in?"
    return "" if stat.S_ISCHR(info.st_mode) else f"{path} is not a character device"


def check_serial(ctx: Context) -> Iterator[Result]:
    """Serial devices named in the config exist and, when asked or idle, answer."""
    devices = [d for d in (ctx.config.devices if ctx.config else ()) if serial_paths(d)]
    if not devices:
        yield Result("serial", "ok", "no serial devices configured")
        return
    appliance_up = display_result(ctx).status == "ok"
    for device in devices:
        problems = [p for p in map(_present, serial_paths(device)) if p]
        label = f"serial {device.get('id', device.get('name', ''))}".strip()
        if problems:
            yield Result(label, "fail", "; ".join(problems))
        elif appliance_up and not ctx.probe:
            yield Result(label, "ok", "present; in use by the appliance (--probe to query)")
        else:
            yield _probe(device)


def _web_host(config: Config) -> str:
    host = config.web.bind[0] if config.web.bind else "127.0.0.1"
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


def display_result(ctx: Context) -> Result:
    """GET /healthz on the configured web port."""
    if ctx.config is None:
        return Result("display", "fail", "no valid config")
    host = _web_host(ctx.config)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{ctx.config.web.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
            return Result("display", "ok", f"{url} answered {reply.status}")
    except urllib.error.HTTPError as err:
        return Result("display", "fail", f"{url} answered {err.code}")
    except OSError as err:
        return Result("display", "fail", f"{url} unreachable: {err}")


def check_display(ctx: Context) -> Iterator[Result]:
    """The appliance's web server answers (the kiosk shows its /display page)."""
    yield display_result(ctx)


def certificate_result(path: Path, now: datetime.datetime) -> Result:
    """Whether the certificate at ``path`` is valid now and for a while."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as err:
        return Result("certificate", "fail", f"{path}: {err}")
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < start:
        detail = f"not valid before {start:%Y-%m-%d}; is the clock right?"
        return Result("certificate", "fail", detail)
    if now >= end:
        return Result("certificate", "fail", f"expired on {end:%Y-%m-%d}")
    days = (end - now).days
    status: Status = "warn" if days < CERT_WARN_DAYS else "ok"
    return Result("certificate", status, f"{path} valid for {days} more days")


def check_certificate(ctx: Context) -> Iterator[Result]:
    """The TLS certificate exists and is within its validity."""
    if ctx.config is None:
        return
    web = ctx.config.web
    path = Path(web.tls_cert) if web.tls_cert else Path(ctx.config.state_dir) / "tls" / "cert.pem"
    yield certificate_result(path, datetime.datetime.now(datetime.UTC))


def check_broker(ctx: Context) -> Iterator[Result]:
    """The MQTT broker accepts a TCP connection."""
    url = ctx.config.mqtt.url if ctx.config else ""
    if not url:
        yield Result("broker", "ok", "telemetry off (no [mqtt] url)")
        return
    parts = urlsplit(url)
    port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=TIMEOUT_S):
            yield Result("broker", "ok", f"{parts.hostname}:{port} accepts connections")
    except OSError as err:
        yield Result("broker", "fail", f"{parts.hostname}:{port} unreachable: {err}")


def clock_synced() -> bool | None:
    """Whether NTP has synchronised the clock (None when it cannot be told)."""
    try:
        out = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True, text=True, timeout=TIMEOUT_S,
        )  # fmt: skip
        if out.returncode == 0 and out.stdout.strip() in ("yes", "no"):
            return out.stdout.strip() == "yes"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return system.kernel_clock_synced()  # no timedated (a container, a minimal image)


def check_clock(ctx: Context) -> Iterator[Result]:
    """The clock is NTP-synchronised (certificates and schedules depend on it)."""
    synced = clock_synced()
    if synced:
        yield Result("clock", "ok", "synchronised")
    else:
        yield Result("clock", "warn", "not synchronised; check NTP (udp/123) to the time server")


def check_disk(ctx: Context) -> Iterator[Result]:
    """Free space where the state lives."""
    folder = Path(ctx.config.state_dir if ctx.config else "/")
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    free_pct = 100 * usage.free / usage.total
    detail = f"{usage.free // 2**20} MiB free ({free_pct:.0f} %) on {folder}"
    status: Status = "fail" if free_pct < 5 or usage.free < 256 * 2**20 else "ok"
    yield Result("disk", "warn" if status == "ok" and free_pct < 15 else status, detail)


CHECKS: tuple[Callable[[Context], Iterator[Result]], ...] = (
    check_config, check_serial, check_display, check_certificate, check_broker, check_clock,
    check_disk,
)  # fmt: skip


def run_checks(ctx: Context) -> list[Result]:
    """Every check's results, in order."""
    return [result for check in CHECKS for result in check(ctx)]


def format_table(results: list[Result]) -> str:
    """Results as an aligned text table."""
    width = max([len(r.check) for r in results] + [5])
    lines = [f"{'check':<{width}}  status  detail"]
    lines += [f"{r.check:<{width}}  {r.status:<6}  {r.detail}" for r in results]
    return "\n".join(lines)


def _context(args: argparse.Namespace) -> Context:
    path = Path(args.config)
    try:
        config: Config | None = load_config(path)
    except ConfigError:
        config = None
    return Context(path, config, args.probe)


def handle_doctor(args: argparse.Namespace) -> int:
    """Run the checks, print the table, exit 1 on any failure."""
    results = run_checks(_context(args))
    print(format_table(results))
    return 1 if any(r.status == "fail" for r in results) else 0


def register(subparsers: Any) -> None:
    """Add ``roomctl doctor``."""
    parser = subparsers.add_parser("doctor", help="check this appliance: config, devices, network")
    parser.add_argument("--config", default="/etc/roomctl/roomctl.toml", help="config file")
    parser.add_argument("--probe", action="store_true", help="query serial devices even if in use")
    parser.set_defaults(func=handle_doctor)
