"""Caretaker tools: `roomctl profiles list`, `roomctl profiles check [FILE]`, `roomctl probe`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from roomctl.core.errors import DeviceError, ProfileError
from roomctl.profiles import check, loader
from roomctl.profiles.schema import QUERY_COMMANDS, Profile


def register(subparsers: Any) -> None:
    """Add ``profiles`` and ``probe`` to the roomctl command."""
    prof = subparsers.add_parser("profiles", help="list and check firmware profiles")
    sub = prof.add_subparsers(dest="profiles_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="list shipped profiles").set_defaults(func=handle_list)
    chk = sub.add_parser("check", help="validate profiles and replay their documented exchanges")
    chk.add_argument("files", nargs="*", type=Path, help="profile files (default: all shipped)")
    chk.set_defaults(func=handle_check)
    probe = subparsers.add_parser("probe", help="send a profile's queries to a device")
    probe.add_argument("--profile", required=True, help="profile id, e.g. epson/escvp21")
    where = probe.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="serial port URL (/dev/ttyUSB0, socket://h:p, rfc2217://h:p)")
    where.add_argument("--host", help="TCP host")
    probe.add_argument("--port", type=int, default=0, help="TCP port (default: the profile's)")
    probe.add_argument("--password", default="", help="device password, if any")
    probe.add_argument("--timeout", type=float, default=0.0, help="reply timeout in seconds")
    probe.set_defaults(func=handle_probe)


def handle_list(args: argparse.Namespace) -> int:
    """Print one line per shipped profile; bad files are listed with their problem."""
    failed = 0
    for path in loader.shipped_files():
        try:
            p = loader.load_file(path)
        except ProfileError as err:
            print(f"{loader.profile_id(path):28} INVALID: {err}")
            failed += 1
            continue
        where = f"tcp {p.transport.port}" if p.transport.kind == "tcp" else _serial(p)
        print(f"{p.id:28} {p.vendor} {p.family} [{where}] {len(p.commands)} commands")
    return 1 if failed else 0


def _serial(p: Profile) -> str:
    t = p.transport
    return f"serial {t.baudrate} {t.bytesize}{t.parity}{t.stopbits}"


def handle_check(args: argparse.Namespace) -> int:
    """Validate each file and replay its examples; exit 1 naming file, key and problem."""
    files = args.files or loader.shipped_files()
    bad = 0
    for path in files:
        problems = _check_file(Path(path))
        for key, problem in problems:
            print(f"{path}: {key}: {problem}", file=sys.stderr)
        bad += bool(problems)
        if not problems:
            print(f"{path}: ok")
    print(f"{len(files) - bad} of {len(files)} profiles ok", file=sys.stderr if bad else sys.stdout)
    return 1 if bad else 0


def _check_file(path: Path) -> list[tuple[str, str]]:
    try:
        profile = loader.load_file(path)
    except loader.ProfileErrors as err:
        return list(err.issues)
    except ProfileError as err:
        return [(err.key or "(file)", str(err).split(": ")[-1])]
    return check.problems(profile)


def handle_probe(args: argparse.Namespace) -> int:
    """Send every query the profile has and report which ones answer."""
    try:
        profile = loader.get(args.profile)
    except ProfileError as err:
        print(f"probe: {err}", file=sys.stderr)
        return 2
    return asyncio.run(_probe(profile, args))


async def _probe(profile: Profile, args: argparse.Namespace) -> int:
    from roomctl.drivers.profile import ProfileDeviceConfig, ProfileDriver

    config = ProfileDeviceConfig(
        type=profile.id, url=args.url or "", host=args.host or "", port=args.port,
        password=args.password, timeout_s=args.timeout,
    )  # fmt: skip
    driver = ProfileDriver(config, profile)
    answered = 0
    try:
        for query in (q for q in QUERY_COMMANDS if q in profile.commands):
            outcome = await _ask(driver, query)
            answered += not outcome.startswith("-")
            print(f"{query:14} {outcome}")
    finally:
        await driver.close()
    print(f"{answered} queries answered")
    return 0 if answered else 1


async def _ask(driver: Any, query: str) -> str:
    try:
        value = await driver.request(query)
    except DeviceError as err:
        return f"- {type(err).__name__}: {err}"
    return "ok" if value is None else repr(value)
