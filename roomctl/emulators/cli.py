"""``roomctl emulate``: run a device emulator on loopback (PJLink, a profile family, miio)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import sys
from typing import Any

PJLINK_IDS = {"pjlink": 2, "pjlink/class1": 1, "pjlink/class2": 2}


def register(subparsers: Any) -> None:
    """Add the ``emulate`` subcommand."""
    parser = subparsers.add_parser(
        "emulate",
        help="run a projector/display or miio emulator on 127.0.0.1 or a pty",
        description="Run a device emulator bound to loopback only; prints where it listens.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--profile", metavar="ID", help="pjlink, pjlink/class1, or a profile id")
    what.add_argument("--miio", metavar="KIND", help="a python-miio device kind, e.g. plug")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--tcp", type=int, metavar="PORT", help="TCP port on 127.0.0.1 (0: any)")
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal")
    parser.add_argument("--password", default="", help="require this password (PJLink, ...)")
    parser.add_argument("--fault", default="none", help="inject a fault, e.g. garbage, busy")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--token", help="miio token (32 hex digits)")
    parser.add_argument("--udp", type=int, metavar="PORT", help="PJLink class 2 search port")
    parser.add_argument("--notify-port", type=int, default=4352, help="PJLink notification port")
    parser.add_argument("--warmup", type=float, default=5.0, help="PJLink warm-up seconds")
    parser.add_argument("--cooldown", type=float, default=5.0, help="PJLink cool-down seconds")
    parser.set_defaults(func=handle_emulate)


def handle_emulate(args: argparse.Namespace) -> int:
    """Dispatch to the PJLink, profile or miio emulator."""
    if args.miio:
        return _delegate("roomctl.emulators.miio", args)
    if args.profile in PJLINK_IDS:
        return serve_pjlink(args)
    return _delegate("roomctl.emulators.profile", args)


def _delegate(module_name: str, args: argparse.Namespace) -> int:
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        print(f"emulator not available: {err}", file=sys.stderr)
        return 2
    return int(module.serve(args) or 0)


def _loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost")


def serve_pjlink(args: argparse.Namespace) -> int:
    """Run the PJLink emulator until interrupted."""
    from roomctl.emulators.pjlink import FAULTS

    if args.pty:
        print("PJLink runs over TCP only; use --tcp PORT", file=sys.stderr)
        return 2
    if not _loopback(args.host):
        print("emulators bind to loopback only (127.0.0.N or ::1)", file=sys.stderr)
        return 2
    if args.fault not in FAULTS:
        print(f"unknown fault {args.fault!r}; choose from {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_pjlink(args))
    return 0


async def _run_pjlink(args: argparse.Namespace) -> None:
    from roomctl.emulators.pjlink import Emulator, ProjectorModel

    model = ProjectorModel(
        pjlink_class=PJLINK_IDS[args.profile],
        password=args.password,
        warmup_s=args.warmup,
        cooldown_s=args.cooldown,
    )
    emulator = Emulator(
        model,
        host=args.host,
        port=args.tcp or 0,
        udp_port=args.udp,
        notify_port=args.notify_port,
        fault=args.fault,
    )
    await emulator.start()
    try:
        udp = f", search on udp {emulator.udp_port}" if emulator.udp_port else ""
        where = f"{args.host}:{emulator.port}{udp}"
        print(f"PJLink class {model.pjlink_class} emulator on {where}", flush=True)
        await asyncio.Event().wait()
    finally:
        await emulator.stop()
