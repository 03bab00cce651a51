"""`python -m painterly_vae ...` (also what `torchrun -m painterly_vae` runs)."""

from painterly_vae.cli import main

raise SystemExit(main())
