"""Training: the alternating schedule, the plan of a run, the trunk cache and the trainer that
steps the encoders and the shared decoder (and fits the attribution at the end).

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
