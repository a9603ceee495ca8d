"""Run directories: created atomically, never overwritten, with a manifest.

A run is assembled in a hidden sibling folder (`.NAME.partial-PID`) and renamed into
place only when every file is written, so an interrupted command leaves no folder that
looks complete. The manifest is the last file written into it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from forecast.errors import InputError

MANIFEST = "manifest.json"
DEFAULT_ROOT = Path("runs")
PACKAGES = ("militia-forecast", "pymc", "pytensor", "nutpie", "numba", "arviz", "numpy", "pandas",
            "scipy", "xarray", "h5netcdf", "matplotlib")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_run_path(out: str | Path | None, root: Path = DEFAULT_ROOT, label: str = "run") -> Path:
    """The folder a new run will occupy; refuses one that already exists."""
    if out is not None:
        path = Path(out)
        if path.exists():
            raise InputError(path, "already exists; a run is never written over another. "
                             "Choose a new --out folder")
        return path
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{label}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = root / f"{stamp}-{label}-{suffix}"
    return path


class AlreadyThere(InputError):
    """The final folder appeared while a staged run was being written (another process won)."""


@contextmanager
def staged_run(final: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success rename it to `final`, on failure remove it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.partial-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        if final.exists():
            raise AlreadyThere(final, "appeared while this run was being written; nothing was replaced")
        os.rename(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON through a temporary file and a rename (never a half-written file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not run_dir.is_dir():
        raise InputError(run_dir, "is not a run folder")
    if not path.exists():
        raise InputError(run_dir, f"has no {MANIFEST}; it is not a complete run")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"unreadable manifest ({exc})") from None


def command_line() -> list[str]:
    return [Path(sys.argv[0]).name, *sys.argv[1:]]
