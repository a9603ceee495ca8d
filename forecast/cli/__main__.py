"""`python -m forecast.cli`."""

from forecast.cli import entry

entry()
