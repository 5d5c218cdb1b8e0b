"""The ``roomctl`` command line: every command is found, and a named one loads only its module."""

from __future__ import annotations

import argparse
import subprocess
import sys

from roomctl.cli import COMMAND_MODULES, build_parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_the_table_names_exactly_the_commands_the_modules_register() -> None:
    assert _commands(build_parser()) == {c for cmds in COMMAND_MODULES.values() for c in cmds}
    for module, cmds in COMMAND_MODULES.items():
        assert _commands(build_parser(cmds[0])) == set(cmds), module


def test_run_does_not_load_what_other_commands_need() -> None:
    code = (
        "import sys; from roomctl.cli import build_parser; build_parser('run'); "
        "print(sorted(m for m in ('cryptography.x509', 'roomctl.doctor', "
        "'roomctl.discovery.browser', 'roomctl.central.service') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unknown_command_gets_the_full_usage() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "roomctl", "fly"], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2
    assert "invalid choice: 'fly'" in out.stderr and "doctor" in out.stderr
