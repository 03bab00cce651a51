"""painterly-vae: one VAE encoder per painter, one shared decoder, attribution by latent.

The design follows a research report on painter styles (Monet and five painters around
him): each artist's encoder sees only that artist's paintings, the shared decoder never
knows which encoder produced a latent, so all encoders are pushed into one latent space in
which a clustering module tells the artists apart.
"""

from data_tools.distribution import VERSION as __version__

__all__ = ["__version__"]
