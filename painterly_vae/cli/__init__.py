"""The `painterly-vae` command line: argument parsing, one function per command, the summaries
printed at the end, and the demo.

Imports nothing: every module is imported by its full name, so `painterly-vae --help`
loads no torch."""
