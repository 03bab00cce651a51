"""The evaluation report, typed: what `evaluate` measured, as dataclasses.

`evaluate` fills it, `report.json` stores it, and the summary printed at the end and the
plots read it by attribute, never by string key. Serialised to the keys report.json has always
had, so a report written before this module existed reads back (`EvaluationReport.from_json`)
and prints the same. A key that only some reports have (the unknown painters' rates, the
dating, the representations compared) is a field that defaults to None and is left out of the
JSON when None.

Baselines are a list of `MeasuredBaseline`: their kinds, how they are measured and how a
person reads their names are one list in `evaluation.baselines`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Union

OPTIONAL = {"omit_if_none": True}  # field metadata: the key is absent from report.json when the value is None


def _optional() -> Any:
    return field(default=None, metadata=OPTIONAL)


class JsonRecord:
    """A dataclass that writes itself as report.json's dict and reads itself back from one."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if value is None and item.metadata.get("omit_if_none"):
                continue
            out[item.name] = _to_json(value)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Any:
        hints = typing.get_type_hints(cls)
        values = {item.name: _from_json(hints[item.name], raw[item.name])
                  for item in dataclasses.fields(cls) if item.name in raw}  # type: ignore[arg-type]
        return cls(**values)


def _to_json(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    return value


def _from_json(hint: Any, value: Any) -> Any:
    """`value` as the type `hint` names: records, optional records, dicts and lists of them."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        if value == {} and len(options) == 1 and issubclass(options[0], JsonRecord):
            return None  # older reports wrote an empty section where there was nothing to measure
        return _from_json(options[0], value) if len(options) == 1 else value
    if origin is dict:
        _, item = typing.get_args(hint)
        return {key: _from_json(item, entry) for key, entry in value.items()}
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_from_json(item, entry) for entry in value]
    if isinstance(hint, type) and issubclass(hint, JsonRecord):
        return hint.from_json(value)
    return value


@dataclass
class Accuracy(JsonRecord):
    top1: float
    top3: float
    balanced_accuracy: float | None  # None when no painting of the run's artists was evaluated


@dataclass
class Difference(JsonRecord):
    difference: float  # ours minus theirs, as a fraction (0.029 = 2.9 points)
    interval: list[float]  # [low, high], the paired bootstrap interval

    def points(self) -> str:
        """In percentage points with the interval: `+2.9 [-0.3, +6.2]`."""
        low, high = self.interval
        return f"{self.difference * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"


@dataclass
class Lead(JsonRecord):
    """The run's lead over a baseline on the same paintings (`paired_comparison`)."""

    paintings: int
    resamples: int
    coverage: float
    top1: Difference
    balanced_accuracy: Difference
    verdict: str  # "ahead", "level" or "behind", read from the top-1 interval


@dataclass
class Attribution(Accuracy):
    per_artist: dict[str, dict[str, float]]  # artist -> precision, recall, paintings
    confusion: list[list[int]]  # rows: true artist, columns: attributed
    expected_calibration_error: float


@dataclass
class RepresentationScore(Accuracy):
    expected_calibration_error: float


@dataclass
class Unknown(JsonRecord):
    threshold: float
    accept_share_on_val: float
    false_rejection_rate: float  # share of the run's own artists' paintings flagged unknown
    false_rejections_per_artist: dict[str, float] | None = _optional()  # the same share, painter by painter
    detection_rate: float | None = _optional()  # with paintings by other artists: the share flagged
    auroc: float | None = _optional()
    per_artist: dict[str, dict[str, float]] | None = _optional()  # unknown painter -> paintings, detection_rate, auroc
    familiarity_mix: str | None = _optional()  # the signals the familiarity mixes (`inference.familiarity`)
    held_out_auroc: float | None = _optional()  # leaving each of the run's painters out, on validation paintings
    held_out_flagged: float | None = _optional()  # ... the share of the left-out painter's paintings flagged
    held_out_painters: str | None = _optional()  # ... which were left out: "each painter", "each of 20 of its 25 painters"
    threshold_rule: str | None = _optional()  # clustering.unknown_threshold: "overall" or "per-painter"
    # the plausible painters (`plausible_painters`, runs with a threshold per painter): the share of known
    # paintings whose painter is in their set (overall, by painter), the mean set size, strangers' empty sets
    plausible_coverage: float | None = _optional()
    plausible_coverage_per_artist: dict[str, float] | None = _optional()
    plausible_size: float | None = _optional()
    plausible_empty_strangers: float | None = _optional()


@dataclass
class Quality(JsonRecord):
    """A reconstruction against its painting (`image_quality`), averaged over paintings."""

    l1: float
    psnr: float
    ssim: float
    sharpness: float
    channel_mean_error: float | None = _optional()  # in 0-255 steps (absent from reports before it was measured)
    colour_histogram_distance: float | None = _optional()  # total variation of the RGB histograms, 0-1
    variety_kept: float | None = _optional()  # the reconstructions' spread over the originals' (`fidelity.variety_kept`)


# the per-painting measures `Fidelity.against_baseline` compares (`evaluation.fidelity_comparison`),
# in the words the summary and the plots give them
RECONSTRUCTION_MEASURE_NAMES = {"retrieved": "retrieves its painting", "style_kept": "style probe names the painter",
                                "psnr": "PSNR", "ssim": "SSIM", "sharpness": "sharpness",
                                "channel_mean_error": "colour off", "colour_histogram_distance": "histograms apart"}


@dataclass
class Fidelity(JsonRecord):
    """How much of each painting its reconstruction keeps, as a viewer judges (`evaluation.fidelity`)."""

    paintings: int
    retrieval_top1: float  # share whose own original is the nearest original to their reconstruction
    retrieval_space: str
    channel_mean_error: float
    colour_histogram_distance: float
    readout_retrieval_top1: float | None = _optional()  # the same retrieval from a linear read-out of z: what z holds
    readout_space: str | None = _optional()
    style_probe: str | None = _optional()  # the network's probe that attributes reconstructions (trunk runs)
    style_originals: float | None = _optional()  # its top-1 on the originals shrunk to the decoder's size
    style_reconstructions: float | None = _optional()  # its top-1 on the reconstructions
    # the same two as the mean over painters of each one's share (balanced accuracy): the pooled
    # share rides on the painters with most test paintings, this one weighs Manet's 8 test paintings like Renoir's 121
    style_originals_balanced: float | None = _optional()
    style_reconstructions_balanced: float | None = _optional()
    frechet_distance: float | None = _optional()  # reconstructions against those originals
    frechet_features: str | None = _optional()
    # evaluation.generation: per encoder's painter, the probe's probability of that painter on
    # crossings vs on own reconstructions; per artist, the Fréchet distance of samples and of reconstructions
    crossings: dict[str, dict[str, float]] | None = _optional()
    samples_frechet: dict[str, dict[str, float]] | None = _optional()
    against_baseline: dict[str, Any] | None = _optional()  # evaluation.fidelity_comparison, with --baseline


@dataclass
class Dating(JsonRecord):
    paintings: int
    mae_years: float
    median_error_years: float
    artist_median_mae_years: float | None  # the floor: each artist's median training year
    interval_half_width_years: float
    interval_coverage: float | None
    method: str | None = _optional()  # "painter-median" when the run dates by the attributed painter's median year
    regression_mae_years: float | None = _optional()  # then the regression's own error, beside it


@dataclass
class Baseline(JsonRecord):
    """Another way of attributing the same paintings, scored like the run, with the run's lead over it."""

    top1: float
    top3: float
    balanced_accuracy: float | None
    run_minus_baseline: Lead | None = _optional()
    unknown_auroc: float | None = _optional()  # its best probability as a familiarity score, when unknowns were evaluated
    details: dict[str, Any] = field(default_factory=dict)  # what it is: network, layers, epochs, ... (kind-specific keys)

    def to_json(self) -> dict[str, Any]:
        scores = {key: value for key, value in super().to_json().items() if key != "details"}
        return {**scores, **self.details}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Baseline":
        names = {item.name for item in dataclasses.fields(cls)}
        record = super().from_json({key: value for key, value in raw.items() if key in names})
        record.details = {key: value for key, value in raw.items() if key not in names}
        return record


@dataclass
class MeasuredBaseline:
    """A baseline in the report: its kind (`evaluation.baselines.BASELINES`), its name when the
    kind has several (one per network), and what it scored."""

    kind: str
    name: str | None
    result: Baseline


@dataclass
class EvaluationReport(JsonRecord):
    run: str
    data: str
    prepared_data: str
    split: str
    image_size: int
    input_size: int
    trunk: str | None
    encoders: str
    representation: str
    paintings: dict[str, int]  # known, unknown_artists
    artists: list[str]
    unknown_artists: list[str]
    attribution: Attribution
    unknown: Unknown
    clustering: dict[str, Any]  # k-means and Gaussian mixture NMI / ARI, silhouette; {} with too few paintings
    reconstruction: dict[str, Quality]  # per artist and "mean"
    dating: Dating | None = _optional()
    fidelity: Fidelity | None = _optional()
    representations: dict[str, RepresentationScore] | None = _optional()
    selection: dict[str, Any] | None = _optional()  # how "auto" chose the representation on validation paintings
    unknown_split: str | None = _optional()  # the unknown artists' paintings from this split instead of `split`
    baselines: list[MeasuredBaseline] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        stored: dict[str, Any] = {}
        for baseline in self.baselines:
            if baseline.name is not None:
                stored.setdefault(baseline.kind, {})[baseline.name] = baseline.result.to_json()
            else:
                stored[baseline.kind] = baseline.result.to_json()
        out["baselines"] = stored
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "EvaluationReport":
        report = super().from_json({key: value for key, value in raw.items() if key != "baselines"})
        report.baselines = []
        for kind, stored in (raw.get("baselines") or {}).items():
            entries = [(None, stored)] if "top1" in stored else list(stored.items())  # one, or several by name
            report.baselines += [MeasuredBaseline(kind, name, Baseline.from_json(entry)) for name, entry in entries]
        return report

    def baseline(self, kind: str, name: str | None = None) -> Baseline:
        """The result of one baseline; KeyError when the report has none of that kind and name."""
        for measured in self.baselines:
            if measured.kind == kind and measured.name == name:
                return measured.result
        raise KeyError(kind if name is None else f"{kind} {name}")
