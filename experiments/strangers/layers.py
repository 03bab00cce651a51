"""Which of the network's layers tell a stranger's painting from a known painter's?

    python experiments/strangers/layers.py --known PREPARED --strangers PREPARED --others PREPARED \
        --weights FILE [--cache FILE] [--left-out]

The familiarity reads the Gram statistics (every channel's mean and the channel covariance) of
MobileNetV2's blocks 6, 10 and 13: the layers chosen for attribution. A stranger may differ from
the known painters in finer texture (block 3, 1/4 of the input) or in what is painted (block 16,
block 18's pooled channels: what ImageNet's classifier reads). Each set of layers is measured
with the familiarity the product computes (the Gram regression's confidence + the nearest
training painting, and with --others the exposed regression), as experiments/strangers/exposure.py
measures it, on the same paintings (the prepared 224 px arrays: the raw files are no larger).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from exposure import encode_collections, measured, report  # noqa: E402

LAYERS = ("block3", "block6", "block10", "block13", "block16", "block18")
SETS = {
    "6+10+13 (the product's)": ("block6", "block10", "block13"),
    "3+6+10+13": ("block3", "block6", "block10", "block13"),
    "6+10+13+16": ("block6", "block10", "block13", "block16"),
    "6+10+13 + pooled 18": ("block6", "block10", "block13", "block18"),
    "10+13+16": ("block10", "block13", "block16"),
    "13+16": ("block13", "block16"),
    "16": ("block16",),
    "pooled 18": ("block18",),
}


def encode(collections: dict[str, Path], weights: Path, cache: Path) -> dict[str, np.ndarray]:
    """Per layer: Gram statistics (block 18: each channel's mean and deviation) of every painting."""
    if cache.exists():
        return dict(np.load(cache))
    import torch

    from painterly_vae.config import NetworkConfig
    from painterly_vae.model.pretrained import channel_statistics, gram_statistics, load_feature_network

    torch.set_grad_enabled(False)
    network = load_feature_network("mobilenet_v2", NetworkConfig(str(weights), "signed", "same"), "block18",
                                   progress=False)
    indices = [network.spec.index(layer) for layer in LAYERS]

    def features_of(images: np.ndarray) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, len(images), 64):
            batch = torch.from_numpy(images[start:start + 64].copy()).float() / 255
            for layer, activation in zip(LAYERS, network.activations(batch, indices)):
                statistics = channel_statistics if layer == "block18" else gram_statistics
                parts.setdefault(layer, []).append(statistics([activation]).numpy())
        return {layer: np.concatenate(rows) for layer, rows in parts.items()}

    return encode_collections(collections, cache, features_of)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--known", type=Path, required=True)
    parser.add_argument("--strangers", type=Path, required=True)
    parser.add_argument("--others", type=Path)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path("layers-views.npz"))
    parser.add_argument("--left-out", action="store_true", help="also leave each known painter out in turn")
    parser.add_argument("--sets", nargs="*", help="measure only these sets of layers (names as printed)")
    args = parser.parse_args()
    collections = {"known": args.known, "strangers": args.strangers}
    if args.others:
        collections["others"] = args.others
    v = encode(collections, args.weights, args.cache)
    label, split = v["known_label"], v["known_split"]
    train, val, test = (split == 0), (split == 1), (split == 2)
    for set_name, layers in SETS.items():
        if args.sets and set_name not in args.sets:
            continue
        def stack(prefix: str) -> np.ndarray:
            return np.concatenate([v[f"{prefix}_{layer}"] for layer in layers], 1).astype(np.float64)

        known, strangers = stack("known"), stack("strangers")
        others = stack("others") if args.others else None

        def run(fit_rows: np.ndarray, stranger_rows: np.ndarray, keep: np.ndarray) -> dict[str, tuple]:
            return measured(known, label, val, test, fit_rows, others, stranger_rows, keep)

        everyone = np.ones(len(known), bool)
        report(f"layers {set_name} ({known.shape[1]} numbers): strangers", {k: [x] for k, x in run(train, strangers, everyone).items()})
        if args.left_out:
            rows: dict[str, list] = {}
            for held in np.unique(label):
                keep = label != held
                for name, value in run(train & keep, known[label == held], keep).items():
                    rows.setdefault(name, []).append(value)
            report(f"layers {set_name}: left out, each known painter in turn (mean)", rows)


if __name__ == "__main__":
    main()
