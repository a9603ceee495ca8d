"""Run directories: created atomically, never overwritten, with a manifest.

A run is assembled in a hidden sibling folder (`.NAME.partial-PID`) and renamed into
place only when every file is written, so an interrupted command leaves no folder that
looks complete. The manifest is the last file written into it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PosixPath
from typing import Any

from forecast.errors import ForecastError, InputError
from forecast.safeio import read_bytes

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
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class AutoName(PosixPath):
    """A run folder whose name the tool chose: on a clash it moves to the next free name."""


def new_run_path(out: str | Path | None, root: Path = DEFAULT_ROOT, label: str = "run") -> Path:
    """The folder a new run will occupy; refuses one that already exists."""
    if isinstance(out, AutoName):
        return out
    if out is not None:
        path = Path(out)
        if os.path.lexists(path):        # a dangling symlink counts: writing would follow it
            raise InputError(path, "already exists; a run is never written over another. "
                             "Choose a new --out folder")
        return path
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return _free_name(AutoName(root / f"{stamp}-{label}"))


def _free_name(path: AutoName) -> AutoName:
    base, suffix = path.name, 1
    while os.path.lexists(path):
        suffix += 1
        path = path.with_name(f"{base}-{suffix}")
    return path


class AlreadyThere(InputError):
    """The final folder appeared while a staged run was being written (another process won)."""


class WriteFailed(ForecastError):
    """Writing a run failed for a reason of the machine (disk full, permissions changed)."""


# space a run needs besides its posterior draws (tables, figures, report)
BASE_SPACE = 50 * 2**20
STAGING_RE = re.compile(r"^\.(?P<name>.+)\.partial-(?P<pid>\d+)$")


def staging_path(final: Path) -> Path:
    return final.parent / f".{final.name}.partial-{os.getpid()}"


def check_output(final: Path, need_bytes: int = BASE_SPACE) -> None:
    """Before any work: the run folder can be created where asked, and there is room for it.

    Refuses an existing path (a dangling symlink included), a path under a file or inside
    another run, a folder that is not writable, a name the file system cannot hold (with
    its staging prefix) and a disk with less than `need_bytes` free.
    """
    final = Path(final)
    if os.path.lexists(final):
        raise InputError(final, "already exists; a run is never written over another. "
                         "Choose a new --out folder")
    ancestor = final.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(final, f"cannot be created: {ancestor} is not a folder")
    for folder in (ancestor, *ancestor.resolve().parents):
        if (folder / MANIFEST).is_file():
            raise InputError(final, f"is inside the run {folder}; a run folder is never written into "
                             "(choose --out or --runs-root elsewhere)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(final, f"cannot be created: the folder {ancestor} is not writable")
    name_max = os.pathconf(ancestor, "PC_NAME_MAX")
    for part in (*final.relative_to(ancestor).parts[:-1], staging_path(final).name):
        if len(os.fsencode(part)) > name_max:
            raise InputError(final, f"the name {part[:40]!r}... is longer than the file system allows "
                             f"({name_max} bytes, the staging name included); choose a shorter --out")
    free = shutil.disk_usage(ancestor).free
    if free < need_bytes:
        raise InputError(final, f"only {free / 2**20:.0f} MiB free on its disk; the run needs about "
                         f"{need_bytes / 2**20:.0f} MiB. Free some space or choose another --out")


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging folders of processes that no longer exist (killed runs); return them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = STAGING_RE.match(entry.name)
        if not match or not entry.is_dir(follow_symlinks=False) or _alive(int(match["pid"])):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True      # another user's process (or not a pid): not ours to judge
    return True


@dataclass
class Stage:
    """A run being written: files go into `dir`; `final` is where it landed (after the block)."""

    dir: Path
    final: Path


@contextmanager
def staged_run(final: Path) -> Iterator[Stage]:
    """Yield a Stage; on success rename its folder to `final`, on failure remove it.

    A folder whose name the tool chose (AutoName) moves to the next free name when another
    run took its name meanwhile; a name the user gave is never replaced (AlreadyThere).
    """
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(final.parent, f"cannot be created ({exc.strerror})") from None
    remove_stale_staging(final.parent)
    staging = staging_path(final)
    if staging.exists():
        shutil.rmtree(staging)
    stage = Stage(staging, final)
    try:
        staging.mkdir()
    except OSError as exc:
        raise WriteFailed(f"{staging}: cannot be created ({exc.strerror}); nothing was written") from None
    try:
        yield stage
        _place(staging, stage)
    except OSError as exc:
        raise WriteFailed(f"{final}: writing the run failed ({exc.strerror or exc}); no partial run "
                          "was left behind") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _place(staging: Path, stage: Stage) -> None:
    for _ in range(100):
        if not os.path.lexists(stage.final):
            try:
                os.rename(staging, stage.final)
                return
            except OSError as exc:
                # a rival renamed its own run onto this name in the meantime
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        if not isinstance(stage.final, AutoName):
            raise AlreadyThere(stage.final, "appeared while this run was being written; nothing was "
                               "replaced")
        stage.final = _free_name(stage.final)
    raise AlreadyThere(stage.final, "no free run name found; nothing was replaced")


SEAL = "manifest_sha256"


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in data.items() if k != SEAL}, sort_keys=True, default=str)


def write_json(path: Path, data: dict[str, Any], *, seal: bool = False) -> None:
    """Write JSON through a temporary file and a rename (never a half-written file).

    `seal` adds the hash of the content: a manifest edited by hand (a failed fit marked
    `passed`) no longer matches it, and the loader refuses it.
    """
    if seal:
        plain = json.loads(json.dumps(data, default=str))
        data = {**plain, SEAL: sha256_text(_canonical(plain))}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


MAX_MANIFEST_BYTES = 16 * 2**20


class IncompleteRun(InputError):
    """A run folder or cache entry that is damaged, tampered with or only partly written."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.reason = reason
        super().__init__(str(path), f"not a complete run ({reason})")


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """The manifest of a run folder, as an object (IncompleteRun when unreadable)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "is not a run folder")
    path = run_dir / MANIFEST
    if not os.path.lexists(path):
        raise IncompleteRun(run_dir, f"it has no {MANIFEST}")
    try:
        raw = read_bytes(path, MAX_MANIFEST_BYTES, "manifest JSON file")
    except InputError as exc:
        raise IncompleteRun(run_dir, f"{MANIFEST} {exc.detail}") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IncompleteRun(run_dir, f"unreadable {MANIFEST}: {exc}") from None
    except RecursionError:
        raise IncompleteRun(run_dir, f"{MANIFEST} is nested too deeply") from None
    if not isinstance(manifest, dict):
        raise IncompleteRun(run_dir, f"{MANIFEST} holds a {type(manifest).__name__}, not an object")
    return manifest


# key -> type every manifest of that kind has (a dotted key looks inside a table)
_NUMBER = (int, float)
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "fit": {"kind": str, "model": str, "fit_key": str, "data": dict, "data.content_sha256": str,
            "priors": dict, "priors.resolved": dict, "diagnostics": dict, "diagnostics.passed": bool,
            "diagnostics.failures": list, "diagnostics.max_rhat": _NUMBER,
            "diagnostics.min_ess_bulk": _NUMBER, "diagnostics.min_ess_tail": _NUMBER,
            "diagnostics.divergences": _NUMBER, "diagnostics.min_bfmi": _NUMBER},
}
REQUIRED["run"] = {**REQUIRED["fit"], "scenarios": list, "scenario_seed": int, "verdict": str}


def _lookup(manifest: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    value: Any = manifest
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def check_shape(manifest: dict[str, Any], kind: str) -> str | None:
    """What is wrong with the manifest's shape for a run of `kind`, or None."""
    for key, types in REQUIRED[kind].items():
        present, value = _lookup(manifest, key)
        if not present:
            return f"its manifest has no '{key}'"
        if isinstance(value, bool) and types is not bool:
            return f"'{key}' in its manifest is true/false, not a {_names(types)}"
        if not isinstance(value, types):
            return f"'{key}' in its manifest is a {type(value).__name__}, not a {_names(types)}"
    if kind == "run":
        for i, record in enumerate(manifest["scenarios"]):
            if not isinstance(record, dict) or not all(isinstance(record.get(k), str)
                                                       for k in ("name", "sha256")):
                return f"'scenarios[{i}]' in its manifest is not a table with a name and a sha256"
        ensemble = manifest.get("ensemble")
        if ensemble is not None and not (isinstance(ensemble, dict)
                                         and isinstance(ensemble.get("lead_model"), str)
                                         and isinstance(ensemble.get("weights"), dict)):
            return "'ensemble' in its manifest has no lead model and weights"
    return None


def _names(types: type | tuple[type, ...]) -> str:
    names = {"str": "text", "dict": "table", "list": "list", "bool": "true/false", "int": "whole number",
             "float": "number"}
    group = types if isinstance(types, tuple) else (types,)
    return " or ".join(names.get(t.__name__, t.__name__) for t in group)


def run_files(manifest: dict[str, Any]) -> list[str]:
    """The data files a complete run (or fit) of this manifest holds."""
    ensemble = manifest.get("ensemble")
    if isinstance(ensemble, dict) and isinstance(ensemble.get("weights"), dict):
        posteriors = [f"posterior-{name}.nc" for name in ensemble["weights"]]
    else:
        posteriors = ["posterior.nc"]
    return posteriors + (["scenarios.nc"] if manifest.get("kind") == "run" else [])


def load_run(run_dir: str | Path, kinds: tuple[str, ...] = ("run", "fit")) -> dict[str, Any]:
    """The manifest of a complete run folder or fit-cache entry, after checking it.

    Checked: the manifest is an object of the shape its kind needs, its seal (when it has
    one) matches, the files the run holds are present and regular, and each file whose
    hash the manifest recorded has that hash. Anything else raises IncompleteRun (exit 2).
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    kind = manifest.get("kind")
    if kind not in kinds:
        wanted = " or ".join(repr(k) for k in kinds)
        raise IncompleteRun(run_dir, f"its manifest's kind is {kind!r}; expected {wanted}")
    problem = check_shape(manifest, kind)
    if problem:
        raise IncompleteRun(run_dir, problem)
    if SEAL in manifest and manifest[SEAL] != sha256_text(_canonical(manifest)):
        raise IncompleteRun(run_dir, f"{MANIFEST} was edited after the run was written (its "
                            f"{SEAL} does not match)")
    recorded = manifest.get("files_sha256") or {}
    if not isinstance(recorded, dict):
        raise IncompleteRun(run_dir, "'files_sha256' in its manifest is not a table")
    if "posterior_sha256" in manifest:          # fit-cache entries of earlier versions
        recorded = {"posterior.nc": manifest["posterior_sha256"], **recorded}
    for name in run_files(manifest):
        path = run_dir / name
        if not os.path.lexists(path):
            raise IncompleteRun(run_dir, f"{name} is missing")
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            raise IncompleteRun(run_dir, f"{name} is not a regular file")
        if info.st_size == 0:
            raise IncompleteRun(run_dir, f"{name} is empty")
        if name in recorded and sha256_file(path) != recorded[name]:
            raise IncompleteRun(run_dir, f"{name} does not match the hash recorded when it was written "
                                "(truncated, replaced or damaged)")
    return manifest


def files_sha256(folder: Path) -> dict[str, str]:
    """The hashes of a run's data files, recorded in its manifest for `load_run`."""
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.nc"))}


def command_line() -> list[str]:
    return [Path(sys.argv[0]).name, *sys.argv[1:]]
