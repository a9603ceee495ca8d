"""The regional latent AR family: a level and a presence per region, one shared latent AR (README.md)."""
