"""Where the per-artist runs lose their held-out reconstructions: the decoder's BatchNorm statistics.

    python experiments/decoder/decoder_batchnorm.py RUN --data DIR [--weights mobilenet_v2=FILE] [--paintings 200]

In training every batch holds one artist's paintings (the alternation), so the shared decoder's
BatchNorm normalises each batch by that artist's own statistics of the code; evaluation uses the
running averages, which follow whichever artists trained last. This prints each artist's
validation L1 (its own encoder, z = mu) three ways: with the statistics the run saved, with
statistics recomputed over every artist's training paintings, and with statistics recomputed on
that artist's own training paintings (z drawn and dropout on, as in training). When the last is much lower, the decoder paints well only
with the artist's own normalisation, which evaluation cannot give it. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from data_tools.processed import ProcessedData  # noqa: E402
from painterly_vae.inference.trained_run import open_run  # noqa: E402
from painterly_vae.model.model import reparameterize  # noqa: E402
from painterly_vae.runtime.batches import to_device_images  # noqa: E402

Codes = list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (mu, logvar, target pixels) per batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="the prepared data the run was trained on")
    parser.add_argument("--weights", action="append", default=[], help="NETWORK=FILE, as for evaluate")
    parser.add_argument("--paintings", type=int, default=200, help="per artist and split, at most")
    args = parser.parse_args()
    cpu = torch.device("cpu")
    run = open_run(args.run, cpu, weights=dict(w.split("=", 1) for w in args.weights))
    data = ProcessedData.open(args.data)
    model = run.model.eval()
    decoder = model.shared_decoder
    norms = [m for m in decoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:
        sys.exit(f"{args.run}: its decoder keeps no shared BatchNorm statistics (GroupNorm, or statistics per encoder)")

    def codes(artist: int, split: str) -> Codes:
        images = np.asarray(data.array(data.artists[artist], split)[: args.paintings])
        batches = []
        with torch.no_grad():
            for start in range(0, len(images), 64):
                inputs = model.inputs(to_device_images(images[start:start + 64], cpu))
                posterior = model.encoder_for(artist)(inputs.encoder)
                batches.append((posterior.mu, posterior.logvar, inputs.target))
        return batches

    def recompute(batches: Codes) -> None:
        """Running statistics = the plain average over these batches, taken as training takes
        them: z drawn from the posterior, the decoder's dropout on."""
        torch.manual_seed(0)
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None
        decoder.train()
        with torch.no_grad():
            for mu, logvar, _ in batches:
                decoder(reparameterize(mu, logvar))
        decoder.eval()

    def l1(batches: Codes) -> float:
        with torch.no_grad():
            return float(np.mean([(decoder(mu) - target).abs().mean().item() for mu, _, target in batches]))

    artists = range(len(data.artists))
    val = [codes(a, "val") for a in artists]
    train = [codes(a, "train") for a in artists]
    saved = [l1(v) for v in val]
    recompute([batch for batches in train for batch in batches])
    pooled = [l1(v) for v in val]
    own = []
    for artist in artists:
        recompute(train[artist])
        own.append(l1(val[artist]))
    print(f"{args.run}: validation L1 (own encoder) with the decoder's BatchNorm statistics")
    print(f"  {'artist':24s} {'as saved':>9s} {'all artists':>12s} {'its own':>8s}")
    for artist, name in enumerate(data.artists):
        print(f"  {name:24s} {saved[artist]:9.4f} {pooled[artist]:12.4f} {own[artist]:8.4f}")
    print(f"  {'mean of the artists':24s} {np.mean(saved):9.4f} {np.mean(pooled):12.4f} {np.mean(own):8.4f}")


if __name__ == "__main__":
    main()
