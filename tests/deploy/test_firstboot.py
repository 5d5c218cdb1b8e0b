"""roomctl firstboot: secrets, ids, keys and the boot-partition config, idempotently."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography import x509

from roomctl.cli import main
from roomctl.firstboot import apply_hostname, hostname_for, provision

GOOD = '[room]\nid = "A_101"\nname = "Physics"\n'


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    boot, etc, state = tmp_path / "boot", tmp_path / "etc", tmp_path / "state"
    boot.mkdir()
    return boot, etc, state


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run(boot: Path, etc: Path, state: Path, *extra: str) -> int:
    args = ["firstboot", "--boot-dir", str(boot), "--etc", str(etc), "--state", str(state)]
    return main([*args, "--no-hostname", *extra])


def test_provisions_secret_id_and_tls(dirs: tuple[Path, Path, Path]) -> None:
    boot, etc, state = dirs
    assert run(boot, etc, state) == 0
    secret = state / "room_secret"
    assert len(secret.read_bytes()) == 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    device_id = (state / "device_id").read_text().strip()
    assert device_id.startswith("rc-") and len(device_id) == 15
    int(device_id[3:], 16)
    assert stat.S_IMODE((state / "tls/key.pem").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((state / "tls/cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)


def test_second_run_changes_nothing(
    dirs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    boot, etc, state = dirs
    (boot / "roomctl.toml").write_text(GOOD)
    run(boot, etc, state, "--csr")
    before = snapshot(state), snapshot(etc), snapshot(boot)
    capsys.readouterr()
    assert run(boot, etc, state, "--csr") == 0
    assert "nothing to do" in capsys.readouterr().out
    assert (snapshot(state), snapshot(etc), snapshot(boot)) == before


def test_two_devices_never_share_secrets(tmp_path: Path) -> None:
    made = []
    for name in ("one", "two"):
        state = tmp_path / name
        provision(tmp_path / "noboot", tmp_path / f"etc-{name}", state, False, False)
        files = ("room_secret", "device_id", "tls/key.pem")
        made.append({f: (state / f).read_bytes() for f in files})
    assert all(made[0][f] != made[1][f] for f in made[0])


def test_boot_config_is_imported_once(dirs: tuple[Path, Path, Path]) -> None:
    boot, etc, state = dirs
    etc.mkdir()
    (etc / "roomctl.toml").write_text('[room]\nid = "old"\n')
    (boot / "roomctl.toml").write_text(GOOD)
    done = provision(boot, etc, state, False, False)
    assert "boot config: imported" in done
    assert (etc / "roomctl.toml").read_text() == GOOD
    assert stat.S_IMODE((etc / "roomctl.toml").stat().st_mode) == 0o640
    assert (etc / "roomctl.toml.before-import").read_text() == '[room]\nid = "old"\n'
    assert not (boot / "roomctl.toml").exists() and (boot / "roomctl.toml.imported").exists()
    cert = x509.load_pem_x509_certificate((state / "tls/cert.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "a-101.local" in names.get_values_for_type(x509.DNSName)


def test_invalid_boot_config_is_set_aside_with_the_reason(dirs: tuple[Path, Path, Path]) -> None:
    boot, etc, state = dirs
    (boot / "roomctl.toml").write_text('[room]\nid = "a1"\n[web]\nprot = 80\n')
    done = provision(boot, etc, state, False, False)
    assert "boot config: invalid" in done
    assert not (etc / "roomctl.toml").exists()
    assert (boot / "roomctl.toml.invalid").exists()
    reason = (boot / "roomctl.toml.errors.txt").read_text()
    assert "web.prot" in reason and "roomctl.toml" in reason


def test_csr_for_the_school_ca(dirs: tuple[Path, Path, Path]) -> None:
    boot, etc, state = dirs
    run(boot, etc, state, "--csr")
    csr = x509.load_pem_x509_csr((state / "tls/request.csr").read_bytes())
    assert csr.is_signature_valid
    key = (state / "tls/key.pem").read_bytes()
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    assert csr.public_key() == load_pem_private_key(key, None).public_key()


@pytest.mark.parametrize(
    ("room_id", "expected"),
    [("a101", "a101"), ("A 101", "a-101"), ("__x__", "x"), ("ÄÖ", "roomctl"), ("r" * 80, "r" * 32)],
)
def test_hostname_for(room_id: str, expected: str) -> None:
    assert hostname_for(room_id[:32]) == expected


def test_apply_hostname_writes_hostname_and_hosts(tmp_path: Path) -> None:
    (tmp_path / "hostname").write_text("raspberrypi\n")
    (tmp_path / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    assert apply_hostname("a-101", tmp_path, live=False)
    assert (tmp_path / "hostname").read_text() == "a-101\n"
    assert (tmp_path / "hosts").read_text() == "127.0.0.1\tlocalhost\n127.0.1.1\ta-101\n"
    assert not apply_hostname("a-101", tmp_path, live=False)


def test_unwritable_state_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run(tmp_path, tmp_path / "etc", blocker / "state") == 1
    assert "firstboot failed" in capsys.readouterr().out
