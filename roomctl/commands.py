"""Core subcommands: run, demo, check-config, config, hash-password, certs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from roomctl.config.loader import load_config, read_toml
from roomctl.config.model import Config
from roomctl.config.schema import Collector, build, effective
from roomctl.core.errors import ConfigError, ConfigIssue
from roomctl.passwords import hash_password


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the core subcommands."""
    p = sub.add_parser("run", help="run the appliance")
    p.add_argument("--config", "-c", default="/etc/roomctl/roomctl.toml")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("check-config", help="validate a config file (exit 0/1)")
    p.add_argument("file")
    p.set_defaults(func=cmd_check_config)
    p = sub.add_parser("config", help="print the effective config, secrets masked")
    p.add_argument("file")
    p.set_defaults(func=cmd_config)
    p = sub.add_parser("hash-password", help="hash a PIN or password for the config")
    p.add_argument("--stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_hash_password)
    p = sub.add_parser("demo", help="run a demo room on loopback with an emulated projector")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--state", default="demo-state")
    p.add_argument("--no-fleet", action="store_true", help="no dashboard or simulated rooms")
    p.set_defaults(func=cmd_demo)
    certs = sub.add_parser("certs", help="a school CA and room certificates")
    csub = certs.add_subparsers(dest="certs_command", required=True)
    p = csub.add_parser("init", help="create a school CA")
    p.add_argument("--dir", default="ca", help="where the CA key and certificate go")
    p.add_argument("--name", default="roomctl school CA")
    p.set_defaults(func=cmd_certs_init)
    p = csub.add_parser("issue", help="issue a room certificate")
    p.add_argument("--room", required=True)
    p.add_argument("--dns", action="append", default=[])
    p.add_argument("--ip", action="append", default=[])
    p.add_argument("--ca-dir", default="ca", help="the CA made by 'certs init'")
    p.add_argument("--self-signed", action="store_true", help="no CA: for trials only")
    p.add_argument("--out", default=".", help="where the room certificate and key go")
    p.set_defaults(func=cmd_certs_issue)


def _print_issues(err: ConfigError) -> None:
    for issue in err.issues:
        print(f"error: {issue}", file=sys.stderr)


def validate_file(path: str) -> tuple[Config | None, list[ConfigIssue]]:
    """Every issue of the config at ``path``: core sections and each device."""
    try:
        data = read_toml(Path(path))
    except ConfigError as err:
        return None, list(err.issues)
    col = Collector(path)
    cfg = build(Config, data, "", col)
    issues = list(col.issues)
    issues += device_issues(cfg, path)
    return cfg, issues


def device_issues(cfg: Config, path: str) -> list[ConfigIssue]:
    """Issues in ``[[devices]]`` entries, reported by the device layer when present."""
    try:
        from roomctl.devices import check_devices
    except ImportError:
        return []
    return list(check_devices(cfg, file=path))


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate; print every error at once."""
    cfg, issues = validate_file(args.file)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    if issues:
        print(f"{args.file}: {len(issues)} problem(s)", file=sys.stderr)
        return 1
    print(f"{args.file}: ok ({cfg.room.id if cfg else ''})")
    return 0


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else k)
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, value)]


def cmd_config(args: argparse.Namespace) -> int:
    """The effective config (defaults filled in, secrets masked), errors inline."""
    cfg, issues = validate_file(args.file)
    if cfg is None:
        for issue in issues:
            print(f"# ERROR {issue}")
        return 1
    by_path: dict[str, list[ConfigIssue]] = {}
    for issue in issues:
        by_path.setdefault(issue.path, []).append(issue)
    shown: set[str] = set()
    for path, value in _flatten(effective(cfg)):
        print(f"{path} = {json.dumps(value, ensure_ascii=False)}")
        for issue in by_path.get(path, []):
            print(f"#   ^ ERROR {issue.message}{f' ({issue.hint})' if issue.hint else ''}")
            shown.add(path)
    for path, found in by_path.items():
        if path not in shown:
            for issue in found:
                print(f"# ERROR {issue}")
    return 1 if issues else 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Print a hash to paste into the config (the password itself is never stored)."""
    if args.stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("PIN or password: ")
        if getpass.getpass("again: ") != password:
            print("the two entries differ", file=sys.stderr)
            return 1
    if len(password) < 4:
        print("use at least 4 characters", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the appliance from a config file."""
    from roomctl.app import run

    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        _print_issues(err)
        return 1
    try:
        asyncio.run(run(cfg, config_path=args.config))
    except ConfigError as err:
        _print_issues(err)
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """A demo room on loopback with an emulated projector."""
    from roomctl.demo import run_demo

    try:
        return run_demo(port=args.port, state=Path(args.state), fleet=not args.no_fleet)
    except ConfigError as err:
        _print_issues(err)
        if any(issue.path == "web.port" for issue in err.issues):
            print(f"hint: another port: roomctl demo --port {args.port + 1}", file=sys.stderr)
        return 1


def cmd_certs_init(args: argparse.Namespace) -> int:
    """Create the school CA."""
    from roomctl.certs import init_ca

    pair = init_ca(Path(args.dir), args.name)
    print(f"CA certificate: {pair.cert}\nCA key (keep it safe): {pair.key}")
    return 0


def cmd_certs_issue(args: argparse.Namespace) -> int:
    """Issue a room certificate."""
    from roomctl.certs import IssuedPair, issue

    ca = None
    if not args.self_signed:
        ca_dir = Path(args.ca_dir)
        ca = IssuedPair(ca_dir / "ca.crt", ca_dir / "ca.key")
        if not ca.cert.exists():
            print(
                f"no CA in {ca_dir}: run 'roomctl certs init' or use --self-signed", file=sys.stderr
            )
            return 1
    pair = issue(ca, Path(args.out), args.room, args.dns or [f"{args.room.lower()}.local"], args.ip)
    print(f"certificate: {pair.cert}\nkey: {pair.key}")
    print(f'[web]\ntls_cert = "{pair.cert.resolve()}"\ntls_key = "{pair.key.resolve()}"')
    return 0
