"""What a viewer sees of a reconstruction: is it recognisably that painting, are its colours
kept, does it look like a painting at all.

- Recognisable: each reconstruction's nearest original among all the evaluated originals (L2
  over pixels at `RETRIEVAL_SIZE` px, where a painting's composition and colour masses show
  and fine texture does not decide). A decoder that paints the average painting retrieves
  about 1/N; one that gives the painting back retrieves its own original.
- Colour kept: the difference of the per-channel means (in 0-255 steps: what "the sea came
  back grey" measures) and the total variation between the two joint RGB histograms
  (`HISTOGRAM_BINS` bins per channel; 0 = the same palette in the same amounts, 1 = disjoint).
- Variety kept: how far one painter's reconstructions differ from each other, as a share of how
  far the originals do (the root-mean-square distance to their own mean, over pixels at
  `RETRIEVAL_SIZE` px). A decoder that paints the painter's average painting for every code
  (the "ghost": Manet's six test paintings given back as one pale mirrored figure) keeps about
  0; one that gives every painting back keeps 1. Retrieval, over all the paintings, misses this
  for a painter with few paintings; this is read per painter.
- Realism: the Fréchet distance between two sets of features (Heusel et al., 2017: the
  distance between Gaussians fitted to each set), read on a pretrained network's pooled
  features of reconstructions against originals, or of an artist's samples against that
  artist's paintings. Few hundred paintings against 1,280 features give a biased estimate:
  compare it between decoders on the same paintings, never with published FIDs.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg

from painterly_vae.model.model import resize

RETRIEVAL_SIZE = 16  # the linear read-out of z (evaluation.reconstructions) is scored in the same space
HISTOGRAM_BINS = 8


def retrieves_own_original(reconstructions: torch.Tensor, originals: torch.Tensor) -> np.ndarray:
    """(N,) bool: is original i the nearest of all `originals` to reconstruction i (both (N, 3, H, W) in [0, 1])."""
    if len(reconstructions) != len(originals):
        raise ValueError(f"{len(reconstructions)} reconstructions of {len(originals)} originals")
    size = min(RETRIEVAL_SIZE, originals.shape[-1])
    queries = resize(reconstructions.float(), size).flatten(1)
    gallery = resize(originals.float(), size).flatten(1)
    nearest = torch.cdist(queries, gallery).argmin(1)
    return (nearest == torch.arange(len(originals), device=nearest.device)).cpu().numpy()


def channel_mean_error(reconstructions: torch.Tensor, originals: torch.Tensor) -> torch.Tensor:
    """(N,) mean over R, G, B of |mean channel value of the reconstruction - of the original|, in 0-255 steps."""
    difference = reconstructions.float().mean((2, 3)) - originals.float().mean((2, 3))
    return difference.abs().mean(1) * 255


def colour_histogram_distance(reconstructions: torch.Tensor, originals: torch.Tensor,
                              bins: int = HISTOGRAM_BINS) -> torch.Tensor:
    """(N,) total variation between the joint RGB histograms of each reconstruction and its original."""
    return 0.5 * (_joint_histogram(reconstructions, bins) - _joint_histogram(originals, bins)).abs().sum(1)


def _joint_histogram(images: torch.Tensor, bins: int) -> torch.Tensor:
    """(N, bins^3) the share of pixels in each RGB cell."""
    cells = (images.float().clamp(0, 1) * bins).long().clamp_max(bins - 1)  # (N, 3, H, W)
    index = (cells[:, 0] * bins + cells[:, 1]) * bins + cells[:, 2]  # (N, H, W)
    counts = torch.zeros(len(images), bins**3, device=images.device)
    counts.scatter_add_(1, index.flatten(1), torch.ones_like(index.flatten(1), dtype=counts.dtype))
    return counts / index[0].numel()


def variety_kept(reconstructions: torch.Tensor, originals: torch.Tensor) -> float:
    """The spread of one painter's reconstructions over the spread of their originals (both
    (N, 3, H, W) in [0, 1], N >= 2; see the module docstring): 0 = one picture for all, 1 = as varied."""
    if len(reconstructions) != len(originals) or len(originals) < 2:
        raise ValueError(f"variety needs the same number (at least two) of reconstructions and originals, "
                         f"got {len(reconstructions)} and {len(originals)}")

    def spread(images: torch.Tensor) -> float:
        flat = images.float().flatten(1)
        return float((flat - flat.mean(0, keepdim=True)).pow(2).sum(1).mean().sqrt())

    return spread(reconstructions) / max(spread(originals), 1e-12)


def frechet_distance(features: np.ndarray, references: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors ((N, D) and (M, D)).

    The cross term, the trace of the square root of the covariances' product, is the sum of the
    singular values of the (N, M) product of the two centred sets (each scaled by its count less
    one): the nonzero eigenvalues of A'A B'B are those of (A B')(A B')'. Where the paintings are
    fewer than the features (a painter's ten test paintings against 384 statistics), that small
    product replaces the (D, D) matrix square root, exactly and a hundred times sooner."""
    features, references = np.asarray(features, np.float64), np.asarray(references, np.float64)
    if len(features) < 2 or len(references) < 2:
        raise ValueError("a Fréchet distance needs at least two feature vectors on each side")
    mean_a, mean_b = features.mean(0), references.mean(0)
    centred_a = (features - mean_a) / np.sqrt(len(features) - 1)
    centred_b = (references - mean_b) / np.sqrt(len(references) - 1)
    trace_a, trace_b = float(np.sum(centred_a ** 2)), float(np.sum(centred_b ** 2))
    if max(len(features), len(references)) < features.shape[1]:
        cross = float(np.sum(linalg.svd(centred_a @ centred_b.T, compute_uv=False)))
    else:
        cov_a, cov_b = centred_a.T @ centred_a, centred_b.T @ centred_b
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():  # a nearly singular product: nudge it
            offset = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
        cross = float(np.trace(np.real(root)))
    return float(np.sum((mean_a - mean_b) ** 2) + trace_a + trace_b - 2 * cross)
