"""`python -m painterly_vae ...` (also what `torchrun -m painterly_vae` runs)."""

from painterly_vae.cli.cli import main

if __name__ == "__main__":  # guarded: spawned worker processes import this module too
    raise SystemExit(main())
