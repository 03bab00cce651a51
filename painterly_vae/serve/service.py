"""What the page asks of a run, answered in plain data (the routes in `app` only translate).

One `Service` holds the run (model, clusters, year regression) and its collection, shared by
every request: the model is read-only at inference, and one lock keeps two requests from
running it at once (a CPU has no spare cores for that anyway, and the answers stay exactly
what `attribute` gives). An upload is written to a temporary file that is removed before the
answer leaves, read with the same checks as `prepare` and `attribute`, and refused with a
sentence when it is not a painting to attribute.
"""

from __future__ import annotations

import base64
import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from painterly_vae.evaluation.report import EvaluationReport
from painterly_vae.inference import explore
from painterly_vae.inference.answers import Attribution, attribute_paintings, describe_run
from painterly_vae.inference.painting_files import PaintingFile, read_paintings
from painterly_vae.inference.png import png_bytes, to_pixels
from painterly_vae.inference.trained_run import TrainedRun
from painterly_vae.runtime.batches import to_device_images
from painterly_vae.serve.collection import Collection

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EVIDENCE_PER_CANDIDATE = 4
CANDIDATES_WITH_EVIDENCE = 2
THUMBNAIL_SIDE = 96


class Refused(Exception):
    """A request the page answers with a sentence and an HTTP status instead of a result."""

    def __init__(self, status: int, sentence: str) -> None:
        super().__init__(sentence)
        self.status, self.sentence = status, sentence


@dataclass
class Service:
    run: TrainedRun
    collection: Collection

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.thumbnails: dict[int, bytes] = {}

    # ------------------------------------------------------------ the run and its collection
    def about_run(self) -> dict[str, Any]:
        """The run's painters, training, attribution settings and latest `evaluate` report."""
        run, state = self.run, self.run.state
        clusters = run.require_clusters()
        summary = {
            "name": run.run_dir.name, "artists": list(run.artists), "header": describe_run(run),
            "training_paintings": dict(zip(run.artists, state.train_counts)), "steps": state.step,
            "image_size": run.config.model.image_size, "trunk": run.config.model.trunk,
            "encoders": "single" if len(run.model.encoders) == 1 else "per-artist",
            "best_validation_loss": state.best_val_loss, "attribution": clusters.describe_validation(),
            "strangers_pass_rate": None if clusters.strangers is None else clusters.strangers.pass_rate,
        }
        report = self._latest_report()
        summary["report"] = None if report is None else _report_summary(report)
        return summary

    def plot(self, name: str) -> Path:
        """A plot of the latest report, by a name the report lists (never a path the client names)."""
        report = self._latest_report()
        listed = {Path(plot).name: plot for plot in (report.plots if report is not None else [])}
        if name not in listed:
            raise Refused(404, f"no plot {name!r} in the run's latest report")
        return self.run.run_dir / listed[name]

    def _latest_report(self) -> EvaluationReport | None:
        """The run's report.json as `evaluate` last wrote it (read on each request: evaluate may run meanwhile)."""
        path = self.run.run_dir / "report.json"
        return EvaluationReport.from_json(json.loads(path.read_text("utf-8"))) if path.is_file() else None

    def map_points(self) -> list[dict[str, Any]]:
        c = self.collection
        points = []
        for i in range(len(c)):
            row = c.row(i)
            points.append({"id": i, "artist": c.artists[int(c.labels[i])], "x": float(c.points[i, 0]),
                           "y": float(c.points[i, 1]), "title": row.get("title"), "year": row.get("year")})
        return points

    def thumbnail(self, index: int) -> bytes:
        self._check(index)
        if index not in self.thumbnails:
            self.thumbnails[index] = png_bytes(self.collection.square(index), THUMBNAIL_SIDE)
        return self.thumbnails[index]

    def painting(self, index: int) -> dict[str, Any]:
        self._check(index)
        return self.collection.describe(index)

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.collection):
            raise Refused(404, f"no painting {index} in this run's collection")

    # ------------------------------------------------------------ answers
    def attribute_upload(self, name: str, content: bytes) -> dict[str, Any]:
        """An uploaded file: checked, attributed, with evidence, crossings and its place on the map."""
        if not content:
            raise Refused(400, "the file is empty")
        if len(content) > MAX_UPLOAD_BYTES:
            raise Refused(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        suffix = Path(name).suffix.lower()[:8] if Path(name).suffix else ".img"
        with tempfile.TemporaryDirectory(prefix="painterly-vae-upload-") as folder:
            path = Path(folder) / f"upload{suffix}"
            path.write_bytes(content)
            (painting,) = read_paintings([path], self.run.preprocessing)
        painting.path = Path(Path(name).name or "upload")
        if painting.square is None:
            raise Refused(422, f"{painting.path.name} cannot be attributed: {painting.error}")
        return self._answer(painting)

    def attribute_collection(self, index: int) -> dict[str, Any]:
        """A training painting used as the query ("search again from any result")."""
        details = self.painting(index)
        painting = PaintingFile(Path(details.get("file") or f"painting-{index}"), square=self.collection.square(index))
        answer = self._answer(painting)
        answer["answer"]["seen_in"] = "train"  # it is one of them, whatever its hash says
        return answer

    def _answer(self, painting: PaintingFile) -> dict[str, Any]:
        with self.lock:
            (result,), views = attribute_paintings(self.run, [painting], top=len(self.run.artists))
            image = to_device_images(painting.square[None], self.run.device)
            crossings = explore.cross(self.run.model, image)
            embedding = self.run.require_clusters().embedding(views)[0]
        artists = list(self.run.artists)
        evidence = []
        for artist, probability in result.ranked[:CANDIDATES_WITH_EVIDENCE]:
            nearest = self.collection.nearest(embedding, artists.index(artist), EVIDENCE_PER_CANDIDATE)
            evidence.append({"artist": artist, "probability": probability,
                             "paintings": [{**self.collection.describe(i), "distance": d} for i, d in nearest]})
        encoders = self.run.model.encoder_of_each_artist()
        crossing_of = {artist: _data_url(png_bytes(to_pixels(crossings[encoders[a]]))) for a, artist in enumerate(artists)}
        x, y = self.collection.place(embedding)
        return {"answer": _answer_json(result), "evidence": evidence,
                "crossings": [{"artist": artist, "image": crossing_of[artist], "own": artist == result.ranked[0][0]}
                              for artist in artists],
                "input": _data_url(png_bytes(painting.square)),
                "point": {"x": float(x), "y": float(y)}}


def _answer_json(result: Attribution) -> dict[str, Any]:
    return {**result.to_json(), "path": result.path.name, "year_text": result.describe_year() or None}


def _report_summary(report: EvaluationReport) -> dict[str, Any]:
    """What the page shows of a report: accuracy, each baseline with the run's lead, confusion."""
    from painterly_vae.evaluation.baselines import shown

    baselines = []
    for label, result in shown(report):
        lead = result.run_minus_baseline
        baselines.append({"label": label, "top1": result.top1, "balanced": result.balanced_accuracy,
                          "lead": None if lead is None else lead.top1.points(),
                          "verdict": None if lead is None else lead.verdict})
    a = report.attribution
    return {"split": report.split, "paintings": report.paintings, "top1": a.top1, "top3": a.top3,
            "balanced": a.balanced_accuracy, "calibration_error": a.expected_calibration_error,
            "confusion": a.confusion, "artists": report.artists, "baselines": baselines,
            "false_rejections": report.unknown.false_rejection_rate, "auroc": report.unknown.auroc,
            "plots": list(report.plots)}


def _data_url(png: bytes) -> str:
    """A PNG as a data: URL (the page shows it without another request)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
