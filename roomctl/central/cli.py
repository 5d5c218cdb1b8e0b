"""``roomctl dashboard`` and ``roomctl simulate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the dashboard and simulator subcommands."""
    dash = sub.add_parser("dashboard", help="run the central dashboard service")
    dash.add_argument("--config", help="dashboard TOML config")
    dash.add_argument("--hash-password", action="store_true",
                      help="read a password from stdin and print its hash for [[users]]")
    dash.set_defaults(func=handle_dashboard)
    sim = sub.add_parser("simulate", help="simulated appliances publishing to a broker")
    sim.add_argument("--rooms", type=int, default=20)
    sim.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    sim.add_argument("--speed", type=float, default=60.0, help="sim seconds per wall second")
    sim.add_argument("--clients", type=int, default=0,
                     help="publish through this many shared clients (no per-room Will)")
    sim.add_argument("--prefix", default="rc-sim", help="device id prefix")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--no-outages", action="store_true")
    sim.set_defaults(func=handle_simulate)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def handle_dashboard(args: argparse.Namespace) -> int:
    """Run the dashboard until SIGTERM."""
    from roomctl.central.auth import hash_password
    from roomctl.central.config import load_central_config
    from roomctl.core.errors import ConfigError

    if args.hash_password:
        prompt = sys.stdin.isatty()
        password = getpass.getpass() if prompt else sys.stdin.readline().rstrip("\n")
        print(hash_password(password))
        return 0
    if not args.config:
        print("roomctl dashboard: --config FILE is required", file=sys.stderr)
        return 2
    try:
        config = load_central_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    return asyncio.run(_run_dashboard(config))


async def _run_dashboard(config: object) -> int:
    from roomctl.central.config import CentralConfig
    from roomctl.central.service import CentralService
    from roomctl.central.web import run_web

    assert isinstance(config, CentralConfig)
    service = CentralService(config)
    await service.start()
    try:
        async with run_web(service):
            logger.info("dashboard on http://%s:%d/", config.web.host, config.web.port)
            await _until_signalled()
    finally:
        await service.stop()
    return 0


def handle_simulate(args: argparse.Namespace) -> int:
    """Run the simulator until SIGTERM."""
    return asyncio.run(_run_simulator(args))


async def _run_simulator(args: argparse.Namespace) -> int:
    from roomctl.central.simulator import Simulator

    sim = Simulator(args.broker, args.rooms, speed=args.speed, clients=args.clients,
                    prefix=args.prefix, seed=args.seed, outages=not args.no_outages)
    await sim.start()
    logger.info("simulating %d rooms at %.0fx on %s", args.rooms, args.speed, args.broker)
    print("ready", flush=True)
    try:
        await _until_signalled()
    finally:
        with contextlib.suppress(Exception):
            await sim.stop()
    return 0
