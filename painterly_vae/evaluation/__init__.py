"""Measuring a trained run: accuracy, calibration, unknown painters, reconstructions, every
baseline beside it with paired intervals, and the plots.

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
