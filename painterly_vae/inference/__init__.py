"""What a trained model does with paintings: every encoder's view of a painting (latents), the
attribution fitted on them (clustering, linear probes, dating), maps and pictures, and a
trained run opened from its checkpoint.

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
