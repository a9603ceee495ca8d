"""Forecast evaluation: rolling-origin backtests, proper scores, baselines, calibration.

- `truncate`: the data as it stood at a forecast origin, and the targets after it;
- `forecast.core.predictive`: predictive distributions of span totals and their scores;
- `baselines`: reference forecasts (zero, last value, historical mean, negative binomial, TSB);
- `backtest`: rolling origins run on local processes or a Dask cluster, written to a run folder;
- `lfo`: leave-future-out predictive densities (exact refits at rolling origins) for weights;
- `sbc`: simulation-based calibration of the default model.
"""
