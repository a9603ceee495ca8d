"""Command line: `forecast COMMAND ...`, one module per command (register_parser + run).

Exit codes: 0 success, 1 the machine failed us (disk full, an unreadable intact file),
2 bad input (nothing written), 3 the fit failed its diagnostics, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). The library never imports this package.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from forecast.cli import backtest, compare, data, export, fit, report, rerun, run, scenario, validate
from forecast.errors import ForecastError
from forecast.quiet import quiet_third_parties

COMMANDS = (run, fit, validate, scenario, report, export, rerun, compare, backtest, data)

DESCRIPTION = """Bayesian scenario forecasts of militia attacks on US forces.

Fit a count model to every public figure on attacks (or reuse a cached fit), then
simulate scenario files (a withdrawal, a commander killed, a truce, a war) from the
same posterior draws, and write tables, a report and a manifest into a new run folder.

Start with:  forecast run scenarios/*.toml
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forecast", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true",
                        help="also show third-party warnings and sampler messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register_parser(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that everything that cleans up on Ctrl-C cleans up."""


_terminated = threading.Event()


def _on_sigterm(signum: int, frame: object) -> None:
    _terminated.set()
    raise Terminated


def _handle_sigterm() -> object:
    """Install the SIGTERM handler (main thread only); return the one it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None
    _terminated.clear()
    return signal.signal(signal.SIGTERM, _on_sigterm)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not args.verbose:
        quiet_third_parties()
    previous = _handle_sigterm()
    try:
        return args.run(args)
    except ForecastError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if _terminated.is_set():   # the sampler swallowed the signal and returned a partial trace
            return 143
        return exc.exit_code
    except KeyboardInterrupt:
        if _terminated.is_set():
            print("terminated (SIGTERM); no partial run was left behind", file=sys.stderr)
            return 143
        print("interrupted; no partial run was left behind", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def entry() -> None:
    sys.exit(main())
