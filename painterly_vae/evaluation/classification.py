"""How well probabilities name the artists: accuracy, per-artist precision and recall, the
confusion matrix and calibration. The same measures for the run, each representation it
could have used and every baseline, so their numbers compare."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score, precision_recall_fscore_support

from painterly_vae.evaluation.report import Attribution

CALIBRATION_BINS = 10


def classification_metrics(probabilities: np.ndarray, labels: np.ndarray, artists: list[str]) -> Attribution:
    """Top-1, top-3, balanced accuracy, per-artist precision/recall, confusion, calibration."""
    predicted = probabilities.argmax(1)
    ranks = np.argsort(-probabilities, axis=1)
    top3 = np.mean([label in row[:3] for label, row in zip(labels, ranks)])
    present = sorted(set(labels.tolist()))
    precision, recall, _, support = precision_recall_fscore_support(labels, predicted, labels=list(range(len(artists))),
                                                                    zero_division=0)
    confidence = probabilities.max(1)
    correct = predicted == labels
    return Attribution(
        top1=float(np.mean(correct)),
        top3=float(top3),
        balanced_accuracy=float(balanced_accuracy_score(labels, predicted)) if present else None,
        per_artist={a: {"precision": float(precision[i]), "recall": float(recall[i]), "paintings": int(support[i])}
                    for i, a in enumerate(artists)},
        confusion=_confusion(labels, predicted, len(artists)).tolist(),
        expected_calibration_error=expected_calibration_error(confidence, correct),
    )


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in zip(edges, edges[1:]):
        chosen = (confidence > low) & (confidence <= high)
        if chosen.any():
            total += chosen.mean() * abs(confidence[chosen].mean() - correct[chosen].mean())
    return float(total)


def _confusion(labels: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    matrix = np.zeros((count, count), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix
