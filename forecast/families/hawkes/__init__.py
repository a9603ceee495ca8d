"""The self-exciting (discrete-time Hawkes) negative binomial families (README.md)."""
