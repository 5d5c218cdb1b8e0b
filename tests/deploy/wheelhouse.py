"""An offline wheelhouse for install tests: the roomctl wheel plus its dependencies.

Tests run with no network (``unshare -n``), so pip inside the test root cannot reach PyPI. The
dependencies are repacked from the test venv's own installed distributions (same Python, same
architecture as the Debian 12 root); this is a test seam standing in for PyPI, not a packaging
tool. Repacked wheels are cached by the set of versions.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from tests.deploy.rootfs import CACHE

_SKIP = re.compile(
    r"(^|/)__pycache__/|\.pyc$|^[^/]+\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$"
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(root: str) -> list[md.Distribution]:
    """``root``'s installed dependencies, recursively, without extras."""
    seen: dict[str, md.Distribution] = {}
    todo = [root]
    while todo:
        dist = md.distribution(todo.pop())
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker and not req.marker.evaluate({"extra": ""}):
                continue
            name = _canonical(req.name)
            if name not in seen:
                seen[name] = md.distribution(req.name)
                todo.append(req.name)
    return sorted(seen.values(), key=lambda d: _canonical(d.metadata["Name"]))


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def repack(dist: md.Distribution, out: Path) -> Path:
    """Zip an installed distribution back into a wheel in ``out``."""
    files = [f for f in dist.files or () if not str(f).startswith("..")]
    files = [f for f in files if not _SKIP.search(str(f))]
    info = next(str(f.parent) for f in files if str(f).endswith(".dist-info/METADATA"))
    target = out / f"{info.removesuffix('.dist-info')}-py3-none-any.whl"
    base = Path(str(dist.locate_file("")))
    records = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for item in files:
            data = (base / item).read_bytes()
            whl.writestr(str(item), data)
            records.append(_record_line(str(item), data))
        record = f"{info}/RECORD"
        whl.writestr(record, "\n".join([*records, f"{record},,"]) + "\n")
    return target


def build(scratch: Path, source: Path) -> Path:
    """A folder holding the roomctl wheel (built from ``source``) and its dependencies."""
    deps = closure("roomctl")
    key = hashlib.sha256(" ".join(f"{d.metadata['Name']}=={d.version}" for d in deps).encode())
    cached = CACHE / f"wheels-{key.hexdigest()[:16]}"
    if not (cached / "complete").exists():
        cached.mkdir(parents=True, exist_ok=True)
        for dist in deps:
            repack(dist, cached)
        (cached / "complete").write_text("ok\n")
    house = scratch / "wheels"
    shutil.copytree(cached, house, ignore=shutil.ignore_patterns("complete"))
    build_cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*build_cmd, "--no-index", "-w", str(house), str(source)], check=True)
    return house
