"""Config errors name the file, the key and the problem, all at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from roomctl.config.loader import load_config
from roomctl.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roomctl.toml"
    path.write_text(text)
    return path


def issues_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(i) for i in info.value.issues]


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[room]\nid = "A101"\n'))
    assert cfg.room.id == "A101" and cfg.pairing.period_s == 60 and cfg.web.port == 8080


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, '[room]\nid = "A101"\nnmae = "Physics"\n')
    assert issues_of(path) == [f"{path}: room.nmae: unknown key (did you mean 'name'?)"]


def test_renamed_key_says_what_to_write(tmp_path: Path) -> None:
    found = issues_of(write(tmp_path, '[room]\nid = "A"\n[web]\nhost = "127.0.0.1"\n'))
    assert "web.host: unknown key ('host' was renamed to 'bind')" in found[0]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        '[room]\nid = "A 101"\nlanguage = "de"\ntimezone = "Mars/Base"\n'
        '[web]\nport = "eighty"\n'
        "[pairing]\nperiod_s = 1\n"
        "[unknown_section]\nx = 1\n"
    )
    found = issues_of(write(tmp_path, text))
    joined = "\n".join(found)
    assert len(found) == 6, joined
    assert "room.timezone: unknown time zone 'Mars/Base'" in joined
    assert "room.id: use letters" in joined
    assert "room.language: must be 'fi' or 'sv' or 'en', got 'de'" in joined
    assert "web.port: expected an integer, got 'eighty'" in joined
    assert "pairing.period_s: must be between 5 and 3600" in joined
    assert "unknown_section: unknown key" in joined


def test_missing_required_key(tmp_path: Path) -> None:
    assert issues_of(write(tmp_path, '[room]\nname = "x"\n')) == [
        f"{tmp_path / 'roomctl.toml'}: room.id: required key is missing"
    ]


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    assert "file not found" in issues_of(tmp_path / "nope.toml")[0]
    found = issues_of(write(tmp_path, "[room\nid = 1"))
    assert "not valid TOML" in found[0] and "roomctl.toml" in found[0]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roomctl", *args], capture_output=True, text=True, timeout=60
    )


def test_check_config_exit_codes_and_message(tmp_path: Path) -> None:
    good = write(tmp_path, '[room]\nid = "A101"\n')
    assert run_cli("check-config", str(good)).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[room]\nid = "A101"\n[web]\nprot = 1\nport = "x"\n')
    result = run_cli("check-config", str(bad))
    assert result.returncode == 1
    assert "web.prot: unknown key (did you mean 'port'?)" in result.stderr
    assert "web.port: expected an integer" in result.stderr


def test_a_bad_device_names_file_and_key_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[room]\nid = "A101"\n[[devices]]\ntype = "acme/x"\nhost = "10.0.0.5"\n'
        '[[devices]]\ntype = "epson/escvp21"\nurl = "/dev/ttyUSB0"\ninput = "hdmi9"\n'
    )
    lines = run_cli("check-config", str(bad)).stderr.splitlines()
    assert lines[0] == f"error: {bad}: devices[0].type: unknown profile 'acme/x'"
    assert lines[1].startswith(f"error: {bad}: devices[1].input: no input 'hdmi9' (known: ")


def test_effective_config_masks_secrets_and_shows_errors_inline(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[room]\nid = "A101"\n[roles]\nteacher_pin_hash = "scrypt$1$2$3$abc$def"\n'
        '[mqtt]\npassword = "hunter2"\nkeepalive_s = 1\n',
    )
    result = run_cli("config", str(path))
    assert "hunter2" not in result.stdout and "abc$def" not in result.stdout
    assert 'mqtt.password = "********"' in result.stdout
    assert "mqtt.keepalive_s = 1\n#   ^ ERROR must be at least 5" in result.stdout
    assert result.returncode == 1


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "deploy" / "raspberrypi" / "roomctl.toml.example"
    cfg = load_config(example)
    assert cfg.room.id
