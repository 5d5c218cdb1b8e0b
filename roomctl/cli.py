"""The ``roomctl`` command: one argparse entry, subcommands contributed by their modules.

Each module in ``COMMAND_MODULES`` defines ``register(subparsers)``, adding its parsers with
``set_defaults(func=handler)``; a handler takes the parsed args and returns the exit code.
A command named on the command line imports only its own module: ``roomctl run`` does not
load what ``doctor`` or ``discover`` need (cryptography, zeroconf), which keeps it small.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from roomctl.core.logs import setup_logging

COMMAND_MODULES = {  # module → the commands it registers
    "roomctl.commands": ("run", "demo", "check-config", "config", "hash-password", "certs"),
    "roomctl.emulators.cli": ("emulate",),
    "roomctl.profiles.cli": ("profiles", "probe"),
    "roomctl.discovery.cli": ("discover",),
    "roomctl.doctor": ("doctor",),
    "roomctl.firstboot": ("firstboot",),
    "roomctl.central.cli": ("dashboard", "simulate"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every available subcommand, or only ``command``'s module's."""
    parser = argparse.ArgumentParser(prog="roomctl", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = [m for m, cmds in COMMAND_MODULES.items() if command in cmds] or list(COMMAND_MODULES)
    for name in names:
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
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
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
