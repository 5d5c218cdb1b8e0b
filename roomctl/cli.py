"""The ``roomctl`` command: one argparse entry, subcommands contributed by their modules.

Each module in ``COMMAND_MODULES`` defines ``register(subparsers)``, adding its parsers with
``set_defaults(func=handler)``; a handler takes the parsed args and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from roomctl.core.logs import setup_logging

COMMAND_MODULES = (
    "roomctl.commands",  # run, demo, check-config, config, hash-password, certs
    "roomctl.emulators.cli",  # emulate
    "roomctl.profiles.cli",  # profiles list/check, probe
    "roomctl.discovery.cli",  # discover
    "roomctl.doctor",  # doctor
    "roomctl.firstboot",  # firstboot
    "roomctl.central.cli",  # dashboard, simulate
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every available subcommand."""
    parser = argparse.ArgumentParser(prog="roomctl", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # the module exists but something it imports does not
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(logging.DEBUG if args.verbose else logging.INFO)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
