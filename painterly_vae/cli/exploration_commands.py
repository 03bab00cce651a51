"""`reconstruct`, `cross`, `interpolate`, `sample` and `map`: the pictures, as PNG files.

Each command opens a run (the most recent by default), computes its pictures with
`painterly_vae.inference.explore`, writes one PNG (atomically) and returns its path. Without `--out`
the PNG goes to `<run>/explore/`, named after the command and its inputs, so a run keeps
the pictures made from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from data_tools.atomic import atomic_write_bytes
from painterly_vae.errors import UsageError
from painterly_vae.evaluation import plots
from painterly_vae.inference import explore
from painterly_vae.inference.latents import encode_views
from painterly_vae.inference.painting_files import read_paintings
from painterly_vae.inference.png import png_bytes, to_pixels
from painterly_vae.inference.projections import project, shared_space_features
from painterly_vae.inference.run_data import open_run_data
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.model.model import resize
from painterly_vae.runtime.batches import to_device_images

SHEET_LIMIT = 64  # samples drawn on one PNG sheet; more go to a folder, one file each


def _output(run: TrainedRun, out: Path | None, name: str) -> Path:
    return out if out is not None else run.run_dir / "explore" / name


def _painting(run: TrainedRun, path: Path) -> torch.Tensor:
    """One painting file as a (1, 3, H, W) batch squared like the run's data; bad files are usage errors."""
    (painting,) = read_paintings([path], run.preprocessing)
    if painting.square is None:
        raise UsageError(f"{path}: {painting.error}")
    return to_device_images(painting.square[None], run.device)


def _artist_or_attributed(run: TrainedRun, image: torch.Tensor, name: str | None) -> tuple[int, str]:
    """The artist named by the user, or the one the run attributes the painting to."""
    if name is not None:
        return explore.artist_number(run.artists, name), "chosen"
    (artist,) = explore.attributed_artists(run.model, run.require_clusters(), image)
    return artist, "attributed"


def _numpy(images: torch.Tensor) -> np.ndarray:
    return images.detach().float().cpu().numpy()


def _as_decoded(run: TrainedRun, image: torch.Tensor) -> np.ndarray:
    """The input painting at the size the decoder paints (the trunk may read it larger)."""
    return _numpy(resize(image, run.config.model.image_size))


def reconstruct_png(run: TrainedRun, path: Path, artist: str | None = None, out: Path | None = None) -> Path:
    """The painting beside its reconstruction through an artist's encoder (default: the attributed artist)."""
    image = _painting(run, path)
    index, how = _artist_or_attributed(run, image, artist)
    reconstruction = explore.reconstruct(run.model, image, index)
    rows = [("", np.concatenate([_as_decoded(run, image), _numpy(reconstruction)]))]
    return plots.picture_rows_png(
        rows, _output(run, out, f"reconstruct-{path.stem}{_via(run, [artist], [index])}.png"),
        f"{path.name} through the encoder of {run.artists[index]} ({how})",
        column_titles=["input", f"via {run.artists[index]}"],
    )


def cross_png(run: TrainedRun, path: Path, out: Path | None = None) -> Path:
    """The painting through every artist's encoder and the shared decoder, in one row."""
    image = _painting(run, path)
    crossed = explore.cross(run.model, image)
    names = run.artists if len(run.model.encoders) == len(run.artists) else ["the single encoder"]
    rows = [("", np.concatenate([_as_decoded(run, image), _numpy(crossed)]))]
    return plots.picture_rows_png(
        rows, _output(run, out, f"cross-{path.stem}.png"), f"{path.name} through every painter's encoder",
        column_titles=["input", *[f"via {name}" for name in names]],
    )


def _via(run: TrainedRun, chosen: list[str | None], indices: list[int]) -> str:
    """`-via-<artist>...` in a picture's default file name when the user chose encoders, so the
    picture with the attributed encoders (the name without it) is not overwritten."""
    return "".join(f"-via-{run.artists[i]}" for i in indices) if any(chosen) else ""


def interpolate_png(run: TrainedRun, first: Path, second: Path, steps: int = 8, first_artist: str | None = None,
                    second_artist: str | None = None, out: Path | None = None) -> Path:
    """Decoded linear and spherical paths between two paintings' latents (each under its artist's encoder)."""
    start, end = _painting(run, first), _painting(run, second)
    a, _ = _artist_or_attributed(run, start, first_artist)
    b, _ = _artist_or_attributed(run, end, second_artist)
    paths = explore.interpolate(run.model, start, end, a, b, steps)
    rows = [(kind, _numpy(images)) for kind, images in paths.items()]
    titles = ["first (t=0)" if i == 0 else "second (t=1)" if i == steps - 1 else f"t={i / (steps - 1):.2f}"
              for i in range(steps)]
    return plots.picture_rows_png(
        rows, _output(run, out, f"interpolate-{first.stem}-{second.stem}{_via(run, [first_artist, second_artist], [a, b])}"
                                f"-{steps}-steps.png"),
        f"from {first.name} ({run.artists[a]}) to {second.name} ({run.artists[b]})", column_titles=titles,
    )


def sample_png(run: TrainedRun, artist: str | None = None, count: int = 16, seed: int = 0, out: Path | None = None,
               progress: bool = False) -> Path:
    """New images from the prior, or from an artist's fitted latent cluster: one sheet of PNG
    for up to SHEET_LIMIT of them, beyond that a folder of one PNG per image (`sample_folder`)."""
    if count < 1:
        raise UsageError("--n must be at least 1")
    index = None if artist is None else explore.artist_number(run.artists, artist)
    clusters = run.require_clusters() if index is not None else None
    name = f"sample-{'prior' if index is None else run.artists[index]}-seed{seed}"
    if count > SHEET_LIMIT:
        return sample_folder(run, clusters, index, count, seed, out or run.run_dir / "explore" / f"{name}-n{count}", progress)
    images = _numpy(explore.sample(run.model, clusters, index, count, seed))
    per_row = min(count, 8)
    rows = [("", images[start : start + per_row]) for start in range(0, count, per_row)]
    source = "the prior N(0, I)" if index is None else f"the latent cluster of {run.artists[index]}"
    return plots.picture_rows_png(rows, _output(run, out, f"{name}.png"), f"{count} samples from {source} (seed {seed})")


def sample_folder(run: TrainedRun, clusters, artist: int | None, count: int, seed: int, folder: Path,
                  progress: bool = False) -> Path:
    """`count` samples as sample-000001.png ... in `folder`, decoded a batch at a time and each
    written atomically, so memory stays flat at any count and a stopped command, run again,
    writes only the images still missing (image i is the same whatever the count)."""
    if folder.suffix.lower() == ".png":
        raise UsageError(f"--n {count} writes a folder of PNG files (a sheet holds at most {SHEET_LIMIT}): "
                         f"give --out a folder, not {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    digits = max(6, len(str(count)))
    batch_size = run.inference.batch_size
    with tqdm(total=count, unit="image", desc="sample", disable=not progress, dynamic_ncols=True) as bar:
        for start, images in zip(range(0, count, batch_size),
                                 explore.sample_batches(run.model, clusters, artist, count, seed, batch_size)):
            for offset, image in enumerate(_numpy(images)):
                path = folder / f"sample-{start + offset + 1:0{digits}d}.png"
                if not path.exists():
                    atomic_write_bytes(path, png_bytes(to_pixels(image)))
            bar.update(len(images))
    return folder


def map_png(run: TrainedRun, data_path: Path | None = None, split: str = "train", projection: str = "tsne",
            per_artist: int = 40, out: Path | None = None) -> Path:
    """The run's paintings as thumbnails at their 2-D latent coordinates."""
    if per_artist < 1:
        raise UsageError("--per-artist must be at least 1")
    data = open_run_data(run, data_path)
    thumbnails, labels = [], []
    for artist in run.artists:
        array = data.array(artist, split)
        rows = np.unique(np.linspace(0, len(array) - 1, min(per_artist, len(array))).round().astype(int)) if len(array) else []
        thumbnails.append(np.asarray(array[rows]) if len(rows) else np.zeros((0, 3, data.image_size, data.image_size), np.uint8))
        labels += [artist] * len(rows)
    pictures = np.concatenate(thumbnails)
    if len(pictures) < 3:
        raise UsageError(f"the {split} split of {data.root} has {len(pictures)} paintings: too few for a map")
    views = encode_views(run.model, pictures, run.inference, reconstruct=False)
    points = project(shared_space_features(views), projection)
    label = {"pca": "PCA", "tsne": "t-SNE"}[projection]
    return plots.thumbnail_map_png(
        points, pictures, labels, _output(run, out, f"map-{split}-{projection}.png"),
        f"{len(pictures)} {split} paintings at their latents (mu under every encoder, {label})",
    )
