"""The multi-encoder VAE: per-artist encoders, the shared decoder, their losses, and the frozen
pretrained networks it may read through or be judged by.

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
