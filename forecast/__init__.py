"""Bayesian scenario forecasts of militia attacks on US forces in Iraq and Syria."""

__version__ = "0.1.0"
