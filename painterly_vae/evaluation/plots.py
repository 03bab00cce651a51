"""The pictures `evaluate` saves: confusion matrix, the pairs confused most, latent maps, reconstructions, reliability.

matplotlib with the non-interactive Agg backend (no display needed); every figure is written
atomically as PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from data_tools.atomic import atomic_write_bytes  # noqa: E402
from painterly_vae.evaluation.report import RECONSTRUCTION_MEASURE_NAMES, Lead  # noqa: E402
from painterly_vae.inference.hard_pairs import ConfusedPair  # noqa: E402

UNKNOWN_COLOUR = "#9e9e9e"
CONFUSION_FULL_CELLS = 30  # painters up to which the confusion matrix's cells are 0.75 inch


def _save(figure: plt.Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def confusion_png(matrix: np.ndarray, artists: list[str], path: Path, title: str) -> Path:
    """Rows: true artist, columns: predicted; cells show counts (empty cells none), colour shows
    row share. Beyond `CONFUSION_FULL_CELLS` painters the cells and their type shrink, so a
    hundred painters make a picture of a few thousand pixels, not ten thousand."""
    shares = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    count = len(artists)
    cell = 0.75 if count <= CONFUSION_FULL_CELLS else max(0.3, 0.75 * CONFUSION_FULL_CELLS / count)
    font = 10 if cell == 0.75 else 6
    size = 1.2 + cell * count
    figure, axes = plt.subplots(figsize=(size + 1.5, size))
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(count), artists, rotation=40 if cell == 0.75 else 90, ha="right" if cell == 0.75 else "center",
                    fontsize=font)
    axes.set_yticks(range(count), artists, fontsize=font)
    axes.set_xlabel("predicted artist")
    axes.set_ylabel("true artist")
    for row, column in zip(*np.nonzero(matrix)):
        axes.text(column, row, str(int(matrix[row, column])), ha="center", va="center", fontsize=font,
                  color="white" if shares[row, column] > 0.5 else "black")
    figure.colorbar(image, ax=axes, label="share of the true artist's paintings")
    axes.set_title(title)
    return _save(figure, path)


def confused_pairs_png(pairs: list[ConfusedPair], path: Path, title: str) -> Path:
    """The pairs of painters confused most, one bar each: paintings of the first named as the second,
    then of the second named as the first, with the paintings of the two beside each bar."""
    figure, axes = plt.subplots(figsize=(8, 0.9 + 0.45 * len(pairs)))
    rows = np.arange(len(pairs))[::-1]
    firsts = np.array([p.first_as_second for p in pairs])
    axes.barh(rows, firsts, color="#4c72b0", label="the first painter's paintings named the second")
    axes.barh(rows, [p.second_as_first for p in pairs], left=firsts, color="#dd8452",
              label="the second painter's paintings named the first")
    axes.set_yticks(rows, [f"{p.first} / {p.second}" for p in pairs])
    for row, pair in zip(rows, pairs):
        axes.text(pair.confused, row, f"  of {pair.paintings}", va="center", fontsize=8)
    axes.set_xlabel("paintings attributed to the other painter of the pair")
    axes.set_xlim(0, max(p.confused for p in pairs) * 1.25 + 1)
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    axes.set_title(title)
    return _save(figure, path)


def latent_map_png(coordinates: dict[str, np.ndarray], labels: list[str], path: Path, title: str) -> Path:
    """One panel per projection (e.g. PCA, t-SNE), points coloured by artist; artists the run
    does not know are drawn in grey crosses."""
    names = list(dict.fromkeys(labels))
    palette = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    figure, axes = plt.subplots(1, len(coordinates), figsize=(6 * len(coordinates), 5.2), squeeze=False)
    labels_array = np.array(labels)
    for panel, (projection, points) in zip(axes[0], coordinates.items()):
        for index, name in enumerate(names):
            chosen = labels_array == name
            unknown = name.endswith("(unknown to the run)")
            panel.scatter(points[chosen, 0], points[chosen, 1], s=12, alpha=0.75, label=name,
                          marker="x" if unknown else "o", color=UNKNOWN_COLOUR if unknown else palette(index % palette.N))
        panel.set_title(projection)
        panel.set_xticks([])
        panel.set_yticks([])
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, markerscale=1.5)
    figure.suptitle(title)
    return _save(figure, path)


def reconstructions_png(rows: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """Per artist two rows: inputs, then their reconstructions through the artist's encoder.
    Arrays are (n, 3, H, W) floats in [0, 1]."""
    count = max(len(inputs) for inputs, _ in rows.values())
    figure, axes = plt.subplots(2 * len(rows), count, figsize=(1.3 * count, 2.7 * len(rows)), squeeze=False)
    for block, (artist, (inputs, outputs)) in enumerate(rows.items()):
        for column in range(count):
            for offset, images in enumerate((inputs, outputs)):
                axis = axes[2 * block + offset][column]
                axis.axis("off")
                if column < len(images):
                    axis.imshow(np.clip(images[column].transpose(1, 2, 0), 0, 1))
        axes[2 * block][0].set_title(f"{artist}: input (above), reconstruction (below)", loc="left", fontsize=9)
    return _save(figure, path)


def reliability_png(confidence: np.ndarray, correct: np.ndarray, path: Path, bins: int = 10) -> Path:
    """Accuracy against confidence of the top artist, with the diagonal of perfect calibration."""
    edges = np.linspace(0, 1, bins + 1)
    centres, accuracy, counts = [], [], []
    for low, high in zip(edges, edges[1:]):
        chosen = (confidence > low) & (confidence <= high)
        if chosen.any():
            centres.append(confidence[chosen].mean())
            accuracy.append(correct[chosen].mean())
            counts.append(int(chosen.sum()))
    figure, axes = plt.subplots(figsize=(4.8, 4.4))
    axes.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", label="perfect calibration")
    axes.plot(centres, accuracy, marker="o", label="this run")
    for x, y, n in zip(centres, accuracy, counts):
        axes.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axes.set_xlabel("confidence of the top artist")
    axes.set_ylabel("share attributed correctly")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left")
    return _save(figure, path)


def lead_png(leads: dict[str, Lead], path: Path, title: str) -> Path:
    """The run's lead over each baseline in points of top-1 and of balanced accuracy, each with
    its 95% paired interval (`paired_comparison`): right of the zero line is ahead, an interval
    across it is a tie."""
    names = list(leads)[::-1]  # the first baseline on top
    figure, panels = plt.subplots(1, 2, figsize=(9.5, 0.5 * len(names) + 2.0), sharey=True, layout="constrained")
    for axes, metric, label in zip(panels, ("top1", "balanced_accuracy"), ("top-1", "balanced accuracy")):
        for row, name in enumerate(names):
            lead = getattr(leads[name], metric)
            centre = 100 * lead.difference
            low, high = (100 * value for value in lead.interval)
            axes.errorbar(centre, row, xerr=[[centre - low], [high - centre]], fmt="o", capsize=4,
                          color=_verdict_colour(low, high))
        axes.axvline(0, color="#444444", linewidth=0.8)
        axes.set_xlabel(f"run's lead in {label}, points (95% interval)")
    panels[0].set_yticks(range(len(names)), names)
    figure.suptitle(f"{title}\ngreen: the run is ahead; grey: a tie (the interval holds 0); red: behind", fontsize=10)
    return _save(figure, path)


# the unit a paired reconstruction measure is plotted in, and the factor to it (shares in points)
RECONSTRUCTION_UNITS = {"retrieved": (" (points)", 100), "style_kept": (" (points)", 100), "psnr": (" (dB)", 1),
                        "channel_mean_error": (" (0-255)", 1)}


def reconstruction_leads_png(compared: dict, path: Path, title: str) -> Path:
    """One panel per measure of `fidelity_comparison`: the run's lead over the other run on all
    paintings and on each painter's, with its 95% paired interval, turned so that right is
    better whichever way the measure runs (a smaller colour error is a lead)."""
    rows = {"all painters": compared["measures"], **compared.get("per_artist", {})}
    names = list(rows)[::-1]  # all painters on top
    measures = [m for m in RECONSTRUCTION_MEASURE_NAMES if m in compared["measures"]]
    figure, panels = plt.subplots(1, len(measures), figsize=(2.4 * len(measures) + 1.5, 0.45 * len(names) + 2.0),
                                  sharey=True, layout="constrained", squeeze=False)
    for axes, measure in zip(panels[0], measures):
        unit, scale = RECONSTRUCTION_UNITS.get(measure, ("", 1))
        label = RECONSTRUCTION_MEASURE_NAMES[measure] + unit
        for row, name in enumerate(names):
            measured = rows[name][measure]
            sign = scale if measured["higher_is_better"] else -scale
            centre = sign * measured["difference"]
            low, high = sorted(sign * value for value in measured["interval"])
            axes.errorbar(centre, row, xerr=[[centre - low], [high - centre]], fmt="o", capsize=3,
                          color=_verdict_colour(low, high))
        axes.axvline(0, color="#444444", linewidth=0.8)
        axes.set_xlabel(f"lead in {label}", fontsize=8)
        axes.tick_params(labelsize=7)
    panels[0][0].set_yticks(range(len(names)), [f"{name} ({rows[name][measures[0]]['paintings']})" for name in names])
    figure.suptitle(f"{title}\nright of the line: the run is better; green: ahead; grey: a tie "
                    "(the interval holds 0); red: behind", fontsize=10)
    return _save(figure, path)


def _verdict_colour(low: float, high: float) -> str:
    """Green when a lead's interval lies right of 0 (ahead), red left of it (behind), grey across it (a tie)."""
    return "#2a7d2e" if low > 0 else "#b03a2e" if high < 0 else "#7f7f7f"


def curves_png(runs: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], path: Path, title: str) -> Path:
    """One panel per logged quantity (e.g. train/l1), one line per run."""
    tags = list(next(iter(runs.values())))
    figure, axes = plt.subplots(1, len(tags), figsize=(5.5 * len(tags), 4), squeeze=False)
    for axis, tag in zip(axes[0], tags):
        for name, series in runs.items():
            steps, values = series[tag]
            axis.plot(steps, values, label=name, linewidth=1.2, alpha=0.85)
        axis.set_title(tag)
        axis.set_xlabel("step")
        axis.legend()
    figure.suptitle(title)
    return _save(figure, path)


def picture_rows_png(rows: list[tuple[str, np.ndarray]], path: Path, title: str,
                     column_titles: list[str] | None = None) -> Path:
    """Rows of pictures, each row a label and (n, 3, H, W) floats in [0, 1]: what the
    exploration commands (reconstruct, cross, interpolate, sample) save."""
    count = max(len(images) for _, images in rows)
    cell = 1.6
    figure, axes = plt.subplots(len(rows), count, figsize=(cell * count + 1.2, cell * len(rows) + 0.6), squeeze=False)
    for row, (label, images) in enumerate(rows):
        for column in range(count):
            axis = axes[row][column]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(column < len(images))
            if column < len(images):
                axis.imshow(np.clip(images[column].transpose(1, 2, 0), 0, 1))
            if row == 0 and column_titles and column < len(column_titles):
                axis.set_title(column_titles[column], fontsize=8)
        axes[row][0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    figure.suptitle(title, fontsize=10)
    return _save(figure, path)


def thumbnail_map_png(points: np.ndarray, thumbnails: np.ndarray, labels: list[str], path: Path, title: str) -> Path:
    """Paintings as thumbnails at their 2-D latent coordinates, framed in their artist's colour.

    `thumbnails` are (N, 3, h, w) uint8; points (N, 2)."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    from matplotlib.patches import Patch

    names = list(dict.fromkeys(labels))
    palette = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    colour = {name: palette(index % palette.N) for index, name in enumerate(names)}
    figure, axes = plt.subplots(figsize=(12, 10))
    span = points.max(0) - points.min(0) + 1e-9
    axes.set_xlim(points[:, 0].min() - 0.06 * span[0], points[:, 0].max() + 0.06 * span[0])
    axes.set_ylim(points[:, 1].min() - 0.06 * span[1], points[:, 1].max() + 0.06 * span[1])
    zoom = 36 / thumbnails.shape[-1]  # about 36 points wide whatever the image size
    for (x, y), picture, label in zip(points, thumbnails, labels):
        box = OffsetImage(picture.transpose(1, 2, 0), zoom=zoom)
        axes.add_artist(AnnotationBbox(box, (x, y), frameon=True, pad=0.12,
                                       bboxprops={"edgecolor": colour[label], "linewidth": 2}))
    axes.set_xticks([])
    axes.set_yticks([])
    axes.legend(handles=[Patch(facecolor="none", edgecolor=colour[n], linewidth=2, label=n) for n in names],
                loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes.set_title(title)
    return _save(figure, path)
