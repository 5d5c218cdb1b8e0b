"""Every shipped profile loads and replays its manual's examples; bad profiles are named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from roomctl.core.errors import ProfileError
from roomctl.profiles import check, loader
from roomctl.profiles.schema import Profile

FIXTURES = Path(__file__).parent.parent / "fixtures" / "profiles"
SHIPPED = loader.shipped_files()
REQUIRED = {
    "pjlink/class1", "pjlink/class2", "epson/escvp21", "epson/escvpnet", "nec/binary-serial",
    "nec/binary-tcp", "benq/ascii", "optoma/ascii", "panasonic/serial", "panasonic/ntcontrol",
    "sony/binary-serial", "sony/adcp", "hitachi/serial", "viewsonic/binary", "casio/ascii",
    "samsung/mdc", "lg/ka-serial",
}  # fmt: skip


def test_the_required_families_are_shipped() -> None:
    ids = {loader.profile_id(p) for p in SHIPPED}
    assert ids >= REQUIRED, REQUIRED - ids
    assert (SHIPPED[0].parent.parent / ".roomctl-data").exists()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: loader.profile_id(p))
def test_profile_loads_and_replays_its_examples(path: Path) -> None:
    profile = loader.load_file(path)
    assert profile.id == loader.profile_id(path)
    assert profile.manual and profile.examples
    assert all(ex.source for ex in profile.examples), "every example names its manual and page"
    assert check.problems(profile) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: loader.profile_id(p))
def test_profile_has_transport_and_power(path: Path) -> None:
    profile = loader.load_file(path)
    assert {"power_on", "power_off", "power_query"} <= profile.commands.keys()
    assert set(profile.power_states.values()) <= {"off", "warming", "on", "cooling", "error"}
    if profile.transport.kind == "tcp":
        assert profile.transport.port > 0


def test_a_broken_profile_names_file_key_and_problem() -> None:
    path = FIXTURES / "broken.toml"
    with pytest.raises(loader.ProfileErrors) as info:
        loader.load_file(path)
    text = str(info.value)
    assert str(path) in text
    keys = dict(info.value.issues)
    assert "transport.baud" in keys and "did you mean 'baudrate'" in keys["transport.baud"]
    assert "power_states.0" in keys
    assert (
        "commands.power_query.reply" in keys
        and "regular expression" in keys["commands.power_query.reply"]
    )
    assert "commands.power_onn" in keys
    assert "busy[0]" in keys


def test_invalid_toml_is_a_profile_error(tmp_path: Path) -> None:
    bad = tmp_path / "x" / "y.toml"
    bad.parent.mkdir()
    bad.write_text("schema_version = [1,\n")
    with pytest.raises(ProfileError, match="invalid TOML") as info:
        loader.load_file(bad)
    assert info.value.file == str(bad)


def test_a_wrong_example_is_reported_with_its_key() -> None:
    profile = loader.load_file(FIXTURES / "wrong-example.toml")
    [(key, problem)] = check.problems(profile)
    assert key == "examples[0]" and "encodes as" in problem


def test_unknown_profile_id_suggests_a_near_one() -> None:
    with pytest.raises(ProfileError, match="did you mean 'epson/escvp21'"):
        loader.get("epson/escvp2l")


def _roomctl(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "roomctl", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def test_profiles_check_cli_exits_1_naming_file_key_problem() -> None:
    result = _roomctl("profiles", "check", str(FIXTURES / "broken.toml"))
    assert result.returncode == 1
    assert "broken.toml: transport.baud: unknown key" in result.stderr
    assert "broken.toml: power_states.0: must be one of" in result.stderr


def test_profiles_check_and_list_cli_pass_on_shipped_profiles() -> None:
    result = _roomctl("profiles", "check")
    assert result.returncode == 0, result.stderr
    assert f"{len(SHIPPED)} of {len(SHIPPED)} profiles ok" in result.stdout
    listing = _roomctl("profiles", "list")
    assert listing.returncode == 0 and "epson/escvp21" in listing.stdout


def test_inputs_follow_the_model() -> None:
    profile: Profile = loader.get("epson/escvp21")
    assert "svideo" in profile.inputs_for("EMP-S3")
    assert "svideo" not in profile.inputs_for(None)
