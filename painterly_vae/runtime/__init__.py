"""Where and how the work runs: device, precision, torchrun processes, batches of prepared
paintings, checkpoints, run folders and their log. Knows nothing of the model.

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
