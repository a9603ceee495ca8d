"""The default family: a latent AR(1) log rate under interval-censored Poisson counts (README.md)."""
