"""install.sh in an isolated Debian 12 root, as the pi-gen stage runs it (``--no-systemctl``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy import rootfs, wheelhouse
from tests.support.real import IN_CI, require_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "raspberrypi"
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=abc-02 rootfstype=ext4 rootwait"
WATCHED = (
    "opt/roomctl", "etc/roomctl", "var/lib/roomctl", "etc/systemd/system",
    "etc/systemd/journald.conf.d",
    "etc/udev/rules.d", "etc/pam.d/roomctl-kiosk", "etc/chromium/policies",
    "etc/passwd", "etc/group", "etc/shadow",
    "etc/gshadow", "boot/firmware", "usr/local/bin",
)  # fmt: skip


@dataclass
class Installed:
    """An install run twice in one isolated root."""

    root: Path
    kind: str
    first: str
    second: str
    before: dict[str, tuple[object, ...]]
    after: dict[str, tuple[object, ...]]

    def chroot(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside the root."""
        argv = ["chroot", str(self.root), *cmd]
        return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=120)

    def user(self, name: str) -> list[str]:
        """The passwd fields of ``name`` inside the root."""
        for line in (self.root / "etc/passwd").read_text().splitlines():
            if line.split(":")[0] == name:
                return line.split(":")
        raise AssertionError(f"no user {name}")

    def members(self, group: str) -> list[str]:
        """Members of ``group`` inside the root."""
        for line in (self.root / "etc/group").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == group:
                return fields[3].split(",")
        return []

    def ids(self, name: str) -> tuple[int, int]:
        """uid and primary gid of ``name`` inside the root."""
        fields = self.user(name)
        return int(fields[2]), int(fields[3])


def manifest(root: Path) -> dict[str, tuple[object, ...]]:
    """Every watched path with its type, mode, owner and content hash or link target."""
    entries: dict[str, tuple[object, ...]] = {}
    for top in WATCHED:
        start = root / top
        paths = [start, *start.rglob("*")] if start.is_dir() else [start] if start.exists() else []
        for path in paths:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                what: object = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                what = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                what = "dir"
            entries[str(path.relative_to(root))] = (info.st_mode, info.st_uid, info.st_gid, what)
    return entries


def _install(root: Path, kind: str, wheel: str) -> str:
    args = ["--no-systemctl", f"--wheel=/tmp/roomctl/wheels/{wheel}"]
    args += ["--pip-arg=--no-index", "--pip-arg=--find-links=/tmp/roomctl/wheels"]
    args += ["--no-apt"] if kind == "host" else []
    script = "/tmp/roomctl/deploy/raspberrypi/install.sh"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    done = subprocess.run(
        ["chroot", str(root), "bash", script, *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """Install into a fresh root, record a manifest, install again, record again."""
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("install tests need root (chroot, mounts)")
        pytest.skip("install tests need root (chroot, mounts)")
    require_binary("chroot")
    scratch = tmp_path_factory.mktemp("install")
    wheels = wheelhouse.build(scratch, REPO)
    wheel = next(p.name for p in wheels.glob("roomctl-*.whl"))
    with rootfs.isolated_root(scratch, DEPLOY / "apt-packages.txt") as root:
        stage = root.path / "tmp/roomctl"
        shutil.copytree(DEPLOY, stage / "deploy/raspberrypi")
        shutil.copytree(wheels, stage / "wheels")
        boot = root.path / "boot/firmware"
        boot.mkdir(parents=True, exist_ok=True)
        (boot / "cmdline.txt").write_text(CMDLINE + "\n")
        first = _install(root.path, root.kind, wheel)
        before = manifest(root.path)
        second = _install(root.path, root.kind, wheel)
        yield Installed(root.path, root.kind, first, second, before, manifest(root.path))


def test_second_run_changes_nothing(installed: Installed) -> None:
    changed = {
        path: (installed.before.get(path), installed.after.get(path))
        for path in installed.before.keys() | installed.after.keys()
        if installed.before.get(path) != installed.after.get(path)
    }
    assert changed == {}
    assert "wrote " not in installed.second and "creating" not in installed.second
    assert "installing roomctl" in installed.first
    assert "installing roomctl" not in installed.second


def test_service_accounts(installed: Installed) -> None:
    service = installed.user("roomctl")
    assert service[5] == "/var/lib/roomctl" and service[6] == "/usr/sbin/nologin"
    assert "roomctl" in installed.members("dialout")
    assert installed.user("roomctl-kiosk")[6] == "/usr/sbin/nologin"
    assert "roomctl-kiosk" in installed.members("video")
    assert "roomctl-kiosk" not in installed.members("dialout")


def _owner(installed: Installed, path: str) -> tuple[int, int, int]:
    info = (installed.root / path).stat()
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def test_folders_and_permissions(installed: Installed) -> None:
    uid, gid = installed.ids("roomctl")
    assert _owner(installed, "etc/roomctl") == (0o750, 0, gid)
    assert _owner(installed, "var/lib/roomctl") == (0o750, uid, gid)
    assert _owner(installed, "opt/roomctl") == (0o755, 0, 0)
    for unit in ("roomctl.service", "roomctl-kiosk.service", "roomctl-firstboot.service"):
        assert _owner(installed, f"etc/systemd/system/{unit}") == (0o644, 0, 0)
    assert (installed.root / "etc/udev/rules.d/61-roomctl-serial.rules").is_file()
    assert (installed.root / "etc/systemd/journald.conf.d/roomctl.conf").is_file()
    policy = json.loads((installed.root / "etc/chromium/policies/managed/roomctl.json").read_text())
    assert policy["WebRtcUdpPortRange"] == "40000-40199" and policy["AutoplayAllowed"] is True
    assert os.readlink(installed.root / "usr/local/bin/roomctl") == "/opt/roomctl/venv/bin/roomctl"


def test_units_enabled_by_symlink(installed: Installed) -> None:
    wants = installed.root / "etc/systemd/system/multi-user.target.wants"
    for unit in ("roomctl.service", "roomctl-kiosk.service", "roomctl-firstboot.service"):
        assert os.readlink(wants / unit) == f"/etc/systemd/system/{unit}"
    if installed.kind == "debootstrap":
        sysinit = installed.root / "etc/systemd/system/sysinit.target.wants"
        assert (sysinit / "systemd-time-wait-sync.service").is_symlink()


def test_no_secrets_in_the_image(installed: Installed) -> None:
    state = installed.root / "var/lib/roomctl"
    assert sorted(p.name for p in state.iterdir()) == []
    for top in ("opt/roomctl", "etc/roomctl", "etc/ssl/private"):
        for path in (installed.root / top).rglob("*"):
            if path.suffix in (".pem", ".key") and path.is_file():
                assert b"PRIVATE KEY" not in path.read_bytes(), path


def test_cmdline_gets_hdmi_settings_once(installed: Installed) -> None:
    lines = (installed.root / "boot/firmware/cmdline.txt").read_text().splitlines()
    assert len(lines) == 1
    tokens = lines[0].split()
    assert tokens[: len(CMDLINE.split())] == CMDLINE.split()
    for token in ("video=HDMI-A-1:1920x1080@60D", "vc4.force_hotplug=1", "consoleblank=0"):
        assert tokens.count(token) == 1


def test_example_config_checks_inside_the_root(installed: Installed) -> None:
    _, gid = installed.ids("roomctl")
    assert _owner(installed, "etc/roomctl/roomctl.toml") == (0o640, 0, gid)
    cli = "/opt/roomctl/venv/bin/roomctl"
    done = installed.chroot(cli, "check-config", "/etc/roomctl/roomctl.toml", check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_units_verify_inside_the_root(installed: Installed) -> None:
    if installed.kind != "debootstrap":
        needs_debian_root("cage is only installed in the debootstrap root")
    names = ("roomctl.service", "roomctl-kiosk.service", "roomctl-firstboot.service")
    units = [f"/etc/systemd/system/{name}" for name in names]
    done = installed.chroot("systemd-analyze", "verify", *units, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def needs_debian_root(why: str) -> None:
    """Under CI the Debian root must exist (make test builds it before the netns)."""
    message = f"{why}; build it with: python -m tests.deploy.rootfs"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


ON_CHROOT = """
# stand-in for pi-gen's on_chroot (capsh --chroot=$ROOTFS_DIR -- -e "$@"): same shape, no capsh
on_chroot() { chroot "$ROOTFS_DIR" /bin/bash -e "$@"; }
export -f on_chroot
exec bash "$1"
"""


def test_pi_gen_stage_runs_the_same_install(installed: Installed) -> None:
    if installed.kind == "host":
        needs_debian_root("the stage may install apt packages; the host fallback root cannot")
    wheel = next((installed.root / "tmp/roomctl/wheels").glob("roomctl-*.whl"))
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "ROOTFS_DIR": str(installed.root),
        "ROOMCTL_WHEEL": str(wheel),
        "ROOMCTL_PIP_ARGS": "--no-index --find-links=/tmp/roomctl/wheels",
    }
    stage = DEPLOY / "pi-gen/stage-roomctl/00-roomctl/00-run.sh"
    done = subprocess.run(
        ["bash", "-c", ON_CHROOT, "bash", str(stage)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert manifest(installed.root) == installed.after
    assert not (installed.root / "tmp/roomctl-install").exists()


def test_firstboot_inside_the_root_hands_secrets_to_the_service(installed: Installed) -> None:
    cmd = ["/opt/roomctl/venv/bin/roomctl", "firstboot", "--no-hostname"]
    first = installed.chroot(*cmd)
    assert "room secret created" in first.stdout
    uid, gid = installed.ids("roomctl")
    assert _owner(installed, "var/lib/roomctl/room_secret") == (0o600, uid, gid)
    assert _owner(installed, "var/lib/roomctl/tls/key.pem") == (0o600, uid, gid)
    assert "nothing to do" in installed.chroot(*cmd).stdout


def test_edited_config_survives_an_upgrade(installed: Installed) -> None:
    config = installed.root / "etc/roomctl/roomctl.toml"
    config.write_text('[room]\nid = "edited"\n')
    wheel = next(p.name for p in (installed.root / "tmp/roomctl/wheels").glob("roomctl-*.whl"))
    _install(installed.root, installed.kind, wheel)
    assert config.read_text() == '[room]\nid = "edited"\n'

