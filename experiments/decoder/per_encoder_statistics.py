"""A run trained with the paper's BatchNorm decoder, as it would be with `model.decoder_norm = "encoder"`.

    python experiments/decoder/per_encoder_statistics.py RUNS/SOURCE RUNS/NEW
    painterly-vae cluster --run RUNS/NEW        # recomputes each encoder's statistics, fits the clusters

Training with per-encoder statistics is step for step training with BatchNorm: in training
both normalise by the batch's own statistics, so the weights are the same
(tests/test_decoder_statistics.py); only the running statistics differ, and those are
recomputed per encoder when training ends. So the source run's last weights, with each
BatchNorm's running statistics copied into one row per encoder, are the run that training
with `decoder_norm = "encoder"` would have given, up to which checkpoint best.pt kept. Writes
NEW/config.toml and NEW/checkpoints/last.pt (no clusters yet: `painterly-vae cluster` refits
them, after recomputing the statistics). The source is not changed.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from painterly_vae.config import Config, save_config  # noqa: E402
from painterly_vae.model.decoders import build_decoder  # noqa: E402
from painterly_vae.runtime.run_state import load_run_state, save_run_state  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a run whose DFC decoder has BatchNorm")
    parser.add_argument("new", type=Path, help="the run directory to write (must not exist)")
    args = parser.parse_args()
    if args.new.exists():
        sys.exit(f"{args.new} exists")
    state = load_run_state(args.source / "checkpoints" / "last.pt")
    config = Config.from_dict(state.config)
    if config.model.decoder != "dfc" or config.model.decoder_norm != "batch":
        sys.exit(f"{args.source}: its decoder is not the DFC decoder with BatchNorm")
    config = config.with_values({"model.decoder_norm": "encoder"})
    encoders = len(state.artists) if config.model.encoders == "per-artist" else 1
    decoder = build_decoder(config.model, encoders)
    shapes = {f"shared_decoder.{name}": tensor.shape for name, tensor in decoder.state_dict().items()}
    model = {}
    for name, tensor in state.model.items():
        wanted = shapes.get(name)
        if wanted is not None and wanted != tensor.shape:  # a running statistic: one row per encoder
            tensor = tensor.reshape(1, *tensor.shape).expand(*wanted).clone()
        model[name] = tensor
    new = dataclasses.replace(state, config=config.to_dict(), model=model, clusters=None, dating=None)
    (args.new / "checkpoints").mkdir(parents=True)
    save_config(config, args.new / "config.toml")
    save_run_state(args.new / "checkpoints" / "last.pt", new)
    print(f"wrote {args.new} from {args.source} (step {state.step}); now: painterly-vae cluster --run {args.new}")


if __name__ == "__main__":
    main()
