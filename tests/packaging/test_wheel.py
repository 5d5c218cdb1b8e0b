"""The wheel carries web/ and firmware_profiles/, so an installed roomctl works anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP = (".git", ".venv", "build", "dist", "*.egg-info", "demo-state", "__pycache__", ".*_cache")


def test_installed_wheel_serves_pages_and_profiles_outside_the_source_tree(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a clean copy: no stale build/ folder can leak into the wheel
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*SKIP))
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
             "-w", str(tmp_path / "dist"), str(source)]  # fmt: skip
    subprocess.run(build, check=True, timeout=180, capture_output=True)
    wheel = next((tmp_path / "dist").glob("roomctl-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for wanted in ("roomctl/_web/pages/display.html", "roomctl/_web/i18n/sv.json",
                   "roomctl/_web/static/js/common.js", "roomctl/_profiles/epson/escvp21.toml",
                   "roomctl/_profiles/README.md", "roomctl/py.typed"):  # fmt: skip
        assert wanted in names, wanted
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site)]
    subprocess.run([*install, str(wheel)], check=True, timeout=180, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = (
        "import roomctl, roomctl.resources as r; "
        "print(roomctl.__file__); print(r.web_dir()); print(r.profiles_dir()); "
        "print((r.web_dir() / 'pages' / 'join.html').exists())"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=elsewhere, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()  # fmt: skip
    assert all(line.startswith(str(site)) for line in out[:3]), out
    assert out[3] == "True"
    listed = subprocess.run([sys.executable, "-m", "roomctl", "profiles", "list"], cwd=elsewhere,
                            env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "epson/escvp21" in listed.stdout
