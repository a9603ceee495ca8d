"""Typed errors. Each maps to one exit code of the command line.

InputError (exit 2): something the user gave us is wrong; the message names the
file, the row or key, and what was expected.
ConvergenceError (exit 3): the sampler ran but the fit failed its diagnostics gate.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ForecastError(Exception):
    """Base class of every error the tool reports without a traceback."""

    exit_code = 1


class InputError(ForecastError):
    """Bad user input: a data file, events file, priors file or scenario file."""

    exit_code = 2

    def __init__(self, source: str, message: str, *, where: str | None = None) -> None:
        self.source = str(source)
        self.where = where
        self.detail = message
        location = f"{self.source}" + (f", {where}" if where else "")
        super().__init__(f"{location}: {message}")


class ConvergenceError(ForecastError):
    """The fit did not pass its diagnostics gate."""

    exit_code = 3


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix when a close match exists, else ''."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


class MissingCapability(InputError):
    """A scenario asks a family for something it lacks (a shock, a volatility effect).

    Raised where the family is known but the registry is not; the layer that holds the
    registry adds which families have it (`with_owners`).
    """

    def __init__(self, source: str, message: str, *, where: str | None, capability: str,
                 hint: str = "") -> None:
        # `message` marks with "|" where the owners (or else the hint) are said
        self.capability = capability
        self.template = message
        head, _, tail = message.partition("|")
        super().__init__(source, head + hint + tail, where=where)

    def with_owners(self, owners: list[str]) -> InputError:
        """The same error, saying which families have the capability."""
        if not owners:
            return self
        head, _, tail = self.template.partition("|")
        return InputError(self.source, f"{head}; it belongs to model(s) {', '.join(owners)}{tail}",
                          where=self.where)
