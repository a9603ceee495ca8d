"""Run command lines in-process against a sandbox and judge each one.

A case is a command line (paths relative to the sandbox) and an optional tamper applied
to the sandbox first. The harness copies a template sandbox, applies the tamper, hashes
every file, calls `forecast.cli.main(argv)` under a timeout, and hashes again. A case fails
when it raises (a traceback), hangs, leaves damage (a file changed or removed, a staging
folder left behind, output written inside an existing run) or, when the case says which
exit codes it expects, exits otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
import stat
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from forecast.cli import main

TIMEOUT_SECONDS = 90


@dataclass(frozen=True)
class Case:
    command: str
    argv: tuple[str, ...]
    tamper: str | None = None
    expect: tuple[int, ...] | None = None     # allowed exit codes; None: any, without a traceback
    note: str = ""
    cwd: str = "."                            # where in the sandbox the command runs
    files: tuple[tuple[str, str], ...] = ()   # (name, text) written into the sandbox first
    message: str = ""                         # text the error output must contain

    @property
    def label(self) -> str:
        return " ".join(self.argv)[:160] + (f"  [{self.tamper}]" if self.tamper else "")


@dataclass
class Result:
    case: Case
    code: int | None
    traceback: str | None = None
    damage: list[str] = field(default_factory=list)
    hang: bool = False
    seconds: float = 0.0
    stderr: str = ""
    stdout: str = ""

    @property
    def wrong_exit(self) -> bool:
        """An exit code the case does not allow, or the message it expects missing."""
        if self.traceback is not None or self.hang:
            return False
        if self.case.expect is not None and self.code not in self.case.expect:
            return True
        if self.case.message and self.case.message not in self.stderr + self.stdout:
            return True
        return False

    @property
    def failed(self) -> bool:
        return bool(self.traceback or self.damage or self.hang or self.wrong_exit)


class CaseTimeout(BaseException):
    """Raised by SIGALRM inside a case: not an Exception, so nothing in the tool catches it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise CaseTimeout


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    """relative path -> (kind, content hash) of every entry under root (symlinks not followed)."""
    out: dict[str, tuple[str, str]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                out[rel] = ("file", _digest(path))
            elif stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ("dir", "")
            else:
                out[rel] = ("special", str(stat.S_IFMT(info.st_mode)))
    return out


def _digest(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:          # unreadable: its mode is what we can compare
        return f"unreadable:{exc.errno}"


def judge_damage(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]],
                 code: int | None) -> list[str]:
    """Changes that are damage: an existing entry changed or removed (unless moved into a
    quarantine), a staging folder left, anything added inside an existing run folder, or a
    visible new run folder after a refusal (exit 2)."""
    damage = []
    runs_before = {str(Path(p).parent) for p in before if Path(p).name == "manifest.json"}
    added = {p: v for p, v in after.items() if p not in before}
    quarantined = {v for p, v in added.items() if "/quarantine/" in f"/{p}"}
    for path, value in before.items():
        if path not in after:
            if value not in quarantined and value[0] != "dir":
                damage.append(f"removed {path}")
        elif after[path] != value and value not in quarantined:
            damage.append(f"changed {path}")
    for path in added:
        name = Path(path).name
        if ".partial-" in name:
            damage.append(f"staging folder left: {path}")
        elif any(path.startswith(run + "/") for run in runs_before if run != "."):
            if "/quarantine/" not in f"/{path}" and "/.cache/" not in f"/{path}":
                damage.append(f"written inside an existing run: {path}")
    if code == 2:
        new_runs = [p for p in added if Path(p).name == "manifest.json" and "/.cache/" not in f"/{p}"
                    and "/quarantine/" not in f"/{p}"]
        damage.extend(f"a run was written although the command refused (exit 2): {p}" for p in new_runs)
    return damage


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_case(case: Case, template: Path, tamper: Callable[[Path, str | None], None],
             scratch: Path) -> Result:
    """Copy the template, tamper, run the case, judge it; the copy is removed afterwards."""
    sandbox = Path(tempfile.mkdtemp(prefix="case-", dir=scratch))
    try:
        shutil.copytree(template, sandbox, symlinks=True, dirs_exist_ok=True)
        for name, text in case.files:
            (sandbox / name).write_bytes(text.encode("utf-8", "surrogateescape"))
        tamper(sandbox, case.tamper)
        before = snapshot(sandbox)
        result = _call(case, sandbox)
        result.damage = judge_damage(before, snapshot(sandbox), result.code)
        return result
    finally:
        _unlock(sandbox)
        shutil.rmtree(sandbox, ignore_errors=True)


def _call(case: Case, sandbox: Path) -> Result:
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TIMEOUT_SECONDS)
    started = time.perf_counter()
    result = Result(case, None)
    try:
        with _cwd(sandbox / case.cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result.code = main(list(case.argv))
            except SystemExit as exc:
                result.code = exc.code if isinstance(exc.code, int) else 1
    except CaseTimeout:
        result.hang = True
    except Exception:  # noqa: BLE001 - an escaping exception is what the harness counts
        result.traceback = traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    result.seconds = time.perf_counter() - started
    result.stderr = err.getvalue()
    result.stdout = out.getvalue()
    if result.traceback is None and "Traceback (most recent call last)" in result.stderr:
        result.traceback = result.stderr
    return result


def _unlock(root: Path) -> None:
    """Make read-only folders of a case writable again so that it can be removed."""
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            path = Path(folder) / name
            if not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.chmod(0o755)


def table(results: Iterable[Result]) -> str:
    """Cases, tracebacks, damage, hangs and wrong exit codes per command."""
    rows: dict[str, list[int]] = {}
    for r in results:
        counts = rows.setdefault(r.case.command, [0, 0, 0, 0, 0])
        counts[0] += 1
        counts[1] += r.traceback is not None
        counts[2] += bool(r.damage)
        counts[3] += r.hang
        counts[4] += r.wrong_exit
    header = f"{'command':<16}{'cases':>7}{'tracebacks':>12}{'damage':>8}{'hangs':>7}{'wrong exit':>12}"
    lines = [header, "-" * len(header)]
    total = [0, 0, 0, 0, 0]
    for command in sorted(rows):
        c = rows[command]
        total = [a + b for a, b in zip(total, c)]
        lines.append(f"{command:<16}{c[0]:>7}{c[1]:>12}{c[2]:>8}{c[3]:>7}{c[4]:>12}")
    lines.append(f"{'total':<16}{total[0]:>7}{total[1]:>12}{total[2]:>8}{total[3]:>7}{total[4]:>12}")
    return "\n".join(lines)


def failures(results: Iterable[Result]) -> str:
    """Each failed case with its reason, for the assertion message."""
    parts = []
    for r in results:
        if not r.failed:
            continue
        why = ("hang" if r.hang else "traceback:\n" + (r.traceback or "")[-1500:] if r.traceback
               else f"damage: {r.damage[:3]}" if r.damage
               else f"exit {r.code}, expected {r.case.expect}: {r.stderr[-300:]}")
        parts.append(f"- {r.case.command}: {r.case.label}\n  {why}")
    return "\n".join(parts)
