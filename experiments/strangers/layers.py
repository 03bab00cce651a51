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

from data_tools.processed import ProcessedData  # noqa: E402
from exposure import SPLITS, familiarities, measure, report, with_mixes  # noqa: E402

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
    arrays: dict[str, list[np.ndarray]] = {}
    for name, root in collections.items():
        data = ProcessedData.open(root)
        for index, artist in enumerate(data.artists):
            for split_index, split in enumerate(SPLITS):
                images = data.array(artist, split)
                for start in range(0, len(images), 64):
                    batch = torch.from_numpy(images[start:start + 64]).float() / 255
                    maps = network.activations(batch, indices)
                    for layer, activation in zip(LAYERS, maps):
                        stats = channel_statistics([activation]) if layer == "block18" else gram_statistics([activation])
                        arrays.setdefault(f"{name}_{layer}", []).append(stats.numpy().astype(np.float32))
                arrays.setdefault(f"{name}_label", []).append(np.full(len(images), index))
                arrays.setdefault(f"{name}_split", []).append(np.full(len(images), split_index))
                print(f"{name} {artist} {split}: {len(images)}", flush=True)
        arrays[f"{name}_artists"] = [np.array(data.artists)]
    result = {key: np.concatenate(value) for key, value in arrays.items()}
    np.savez(cache, **result)
    return result


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
            labels = label[fit_rows]
            remap = {a: i for i, a in enumerate(np.unique(labels))}
            scores = with_mixes(familiarities(known[fit_rows], np.vectorize(remap.get)(labels), others,
                                              [known[val & keep], known[test & keep], stranger_rows]))
            return {name: measure(s[0], s[1], label[test & keep], s[2]) for name, s in scores.items()}

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
