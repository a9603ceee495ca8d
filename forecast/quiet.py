"""Third-party chatter kept off the terminal (the CLI's default; `--verbose` shows it).

ArviZ FutureWarnings, PyTensor's BLAS notice and PyMC's "Sampling: [...]" lines say nothing
about the user's results. Worker processes of a backtest start with fresh logging, so they
are quietened the same way when the parent is (`initializer` of their pool).
"""

from __future__ import annotations

import logging
import warnings

NOISY_MODULES = r"(arviz|pytensor|pymc|numba|nutpie|xarray|dask|distributed)(\..*)?"
LOGGERS = ("pymc", "pytensor", "arviz", "numba", "distributed")


def quiet_third_parties() -> None:
    warnings.filterwarnings("ignore", module=NOISY_MODULES)
    # PyMC sets its logger to INFO with a handler of its own when it is imported, unless the
    # root logger already has a handler: give the root one first (warnings and errors only),
    # so a later `import pymc` leaves its "Sampling: [...]" lines below the threshold
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def is_quiet() -> bool:
    """Whether this process keeps third-party chatter off the terminal (to pass to workers)."""
    return logging.getLogger("pymc").getEffectiveLevel() >= logging.ERROR


def worker_initializer(quiet: bool) -> None:
    if quiet:
        quiet_third_parties()
