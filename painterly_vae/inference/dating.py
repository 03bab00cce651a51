"""Dating a painting from its latent: the report's "time-line" idea, as a regression.

Where paintings carry a year (fetch records it in the manifest; in a plain folder a trailing
year in the file name, `...-1877.jpg`, is read by `prepare`), a ridge regression from the
shared-space latent (mu under every encoder, concatenated) to the year is fitted on the
training split, its regularisation chosen by leave-one-out error (scikit-learn's RidgeCV).
A run with a trunk also gives it the trunk's style statistics of the painting (as
`concat+trunk` attribution does): on the five painters at 64 px they bring the error from 10.0
to 8.1 years (experiments/record.md).
The interval is empirical: the absolute errors on the validation split give the half-width
that covers `coverage` of them (80% by default), so "1874 (1868-1880)" means four in five
validation paintings were dated within that distance.

`evaluate` reports the mean absolute error beside the obvious floor: each painting dated at
its (true) artist's median training year. State is tensors and numbers, stored in the
checkpoint next to the clusters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from data_tools.processed import ProcessedData
from painterly_vae.inference.latents import LatentViews

MIN_DATED_PAINTINGS = 10  # fewer dated training paintings: no regression is fitted
DEFAULT_COVERAGE = 0.8
ALPHAS = np.logspace(-2, 4, 13)


def split_years(data: ProcessedData, artists: list[str], split: str) -> np.ndarray:
    """(N,) the year of every painting of `split`, in the order `split_views` encodes them; NaN if unknown."""
    years = []
    for artist in artists:
        for row in data.rows(artist, split):
            year = row.get("year")
            years.append(float(year) if isinstance(year, (int, float)) and not isinstance(year, bool) else np.nan)
    return np.array(years, dtype=np.float64)


class YearRegression:
    """Ridge regression latent -> year, with an empirical interval from validation errors."""

    def __init__(self, coverage: float = DEFAULT_COVERAGE) -> None:
        self.coverage = coverage
        self.mean: np.ndarray | None = None  # feature standardisation, from training
        self.scale: np.ndarray | None = None
        self.coef: np.ndarray | None = None
        self.intercept = 0.0
        self.alpha = 1.0
        self.half_width = float("nan")  # years; NaN until calibrated
        self.fitted_on = 0
        self.reads_style = False  # fitted with the trunk's style statistics beside the latent
        self.validation_error = float("nan")  # mean absolute error in years on the validation paintings (as dated)
        self.floor_error = float("nan")  # the same, dating each at its true painter's median training year
        self.regression_error = float("nan")  # the regression's own validation error
        self.medians: np.ndarray | None = None  # (A,) each painter's median training year (NaN: none dated)
        self.use_medians = False  # chosen on validation: the attributed painter's median beats the regression

    def fit(self, views: LatentViews, years: np.ndarray) -> "YearRegression":
        """Fit on the paintings with a known year (others are ignored)."""
        from sklearn.linear_model import RidgeCV

        dated = ~np.isnan(years)
        if dated.sum() < MIN_DATED_PAINTINGS:
            raise ValueError(f"{int(dated.sum())} dated paintings; at least {MIN_DATED_PAINTINGS} are needed")
        self.reads_style = views.style.shape[1] > 0
        features = self._features(views)[dated]
        self.mean, self.scale = features.mean(0), features.std(0) + 1e-8
        model = RidgeCV(alphas=ALPHAS).fit((features - self.mean) / self.scale, years[dated])
        self.coef, self.intercept, self.alpha = model.coef_, float(model.intercept_), float(model.alpha_)
        self.fitted_on = int(dated.sum())
        return self

    def calibrate(self, views: LatentViews, years: np.ndarray, floor: np.ndarray | None = None,
                  medians: np.ndarray | None = None, painters: np.ndarray | None = None) -> "YearRegression":
        """Measure on the validation paintings and choose how to date.

        `floor`: each painting's true painter's median training year (the reference the error
        is reported against). With `medians` (each painter's median training year) and
        `painters` (the painter the run attributes each validation painting to), dating by the
        attributed painter's median is measured too, and kept instead of the regression when
        its error is lower: a run never dates worse than that. The interval's half-width comes
        from the chosen way's errors."""
        dated = ~np.isnan(years)
        if not dated.any():
            return self
        regression = self.predict(views.select(dated))
        errors = np.abs(regression - years[dated])
        self.regression_error = float(errors.mean())
        if medians is not None and painters is not None:
            self.medians = np.asarray(medians, dtype=np.float64)
            by_median = self.medians[np.asarray(painters)[dated]]
            by_median = np.where(np.isnan(by_median), regression, by_median)
            median_errors = np.abs(by_median - years[dated])
            self.use_medians = bool(median_errors.mean() < errors.mean())
            if self.use_medians:
                errors = median_errors
        self.half_width = float(np.quantile(errors, self.coverage))
        self.validation_error = float(errors.mean())
        if floor is not None and (dated & ~np.isnan(floor)).any():
            both = dated & ~np.isnan(floor)
            self.floor_error = float(np.abs(floor[both] - years[both]).mean())
        return self

    @property
    def beats_floor(self) -> bool | None:
        """Does it date validation paintings better than each painter's usual year? None: not measured."""
        if np.isnan(self.validation_error) or np.isnan(self.floor_error):
            return None
        return self.validation_error < self.floor_error

    def describe_error(self) -> str:
        """How far off its years were on validation paintings, beside the painters' usual years."""
        if np.isnan(self.validation_error):
            return "its error was not measured (the run was fitted before it was; `painterly-vae cluster` measures it)"
        if self.use_medians:
            return (f"the attributed painter's usual year: {self.validation_error:.0f} years off on average on validation "
                    f"paintings, where the estimate from the painting itself was {self.regression_error:.0f}")
        against = "" if np.isnan(self.floor_error) else f", against {self.floor_error:.0f} for each painter's median year"
        if self.beats_floor is False:
            return (f"no better than each painter's usual year: {self.validation_error:.0f} years off on average on "
                    f"validation paintings{against}")
        return f"{self.validation_error:.0f} years off on average on validation paintings{against}"

    def predict(self, views: LatentViews, painters: np.ndarray | None = None) -> np.ndarray:
        """Years: from the regression, or, where calibration chose it and `painters` (the
        attributed painter of each painting) is given, that painter's median training year."""
        if self.coef is None:
            raise RuntimeError("fit the regression first")
        regression = ((self._features(views) - self.mean) / self.scale) @ self.coef + self.intercept
        if not self.use_medians or painters is None or self.medians is None:
            return regression
        by_median = self.medians[np.asarray(painters)]
        return np.where(np.isnan(by_median), regression, by_median)

    def _features(self, views: LatentViews) -> np.ndarray:
        if not self.reads_style:
            return views.concatenated_mu()
        return np.hstack([views.concatenated_mu(), views.style.astype(np.float64)])

    def state_dict(self) -> dict[str, Any]:
        tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))  # noqa: E731
        return {
            "coverage": self.coverage, "mean": tensor(self.mean), "scale": tensor(self.scale), "coef": tensor(self.coef),
            "intercept": self.intercept, "alpha": self.alpha, "half_width": self.half_width, "fitted_on": self.fitted_on,
            "reads_style": self.reads_style, "validation_error": self.validation_error, "floor_error": self.floor_error,
            "regression_error": self.regression_error, "use_medians": self.use_medians,
            "medians": None if self.medians is None else tensor(self.medians),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> "YearRegression":
        regression = cls(float(state["coverage"]))
        regression.mean, regression.scale = state["mean"].numpy(), state["scale"].numpy()
        regression.coef = state["coef"].numpy()
        regression.intercept, regression.alpha = float(state["intercept"]), float(state["alpha"])
        regression.half_width, regression.fitted_on = float(state["half_width"]), int(state["fitted_on"])
        regression.reads_style = bool(state.get("reads_style", False))  # absent: fitted on the latent alone
        regression.validation_error = float(state.get("validation_error", float("nan")))  # absent: not measured
        regression.floor_error = float(state.get("floor_error", float("nan")))
        regression.regression_error = float(state.get("regression_error", regression.validation_error))
        regression.use_medians = bool(state.get("use_medians", False))  # absent: the regression, always
        regression.medians = state["medians"].numpy() if state.get("medians") is not None else None
        return regression


def fit_dating(train_views: LatentViews, train_years: np.ndarray, train_labels: np.ndarray, val_views: LatentViews,
               val_years: np.ndarray, val_labels: np.ndarray, val_attributed: np.ndarray | None = None) -> YearRegression | None:
    """A calibrated regression (its validation error measured beside each painter's median
    year; dating by the attributed painter's median chosen instead where `val_attributed`, the
    painters the run gives the validation paintings, shows it is better), or None when too
    few training paintings carry a year."""
    if np.sum(~np.isnan(train_years)) < MIN_DATED_PAINTINGS:
        return None
    artists = int(max(train_labels.max(initial=-1), val_labels.max(initial=-1))) + 1
    medians = median_years(train_years, train_labels, artists)
    return YearRegression().fit(train_views, train_years).calibrate(val_views, val_years, medians[val_labels], medians,
                                                                    val_attributed)


def dating_metrics(regression: YearRegression, views: LatentViews, years: np.ndarray, labels: np.ndarray,
                   median_year_of_artist: np.ndarray, attributed: np.ndarray | None = None) -> dict[str, Any]:
    """Mean absolute error in years on dated paintings of known artists, as the run dates them
    (`attributed`: the painter it gives each painting), against the artist-median floor, and
    the regression's own error where the run dates by the painter's median instead."""
    chosen = ~np.isnan(years) & (labels >= 0)
    if not chosen.any():
        return {}
    painters = None if attributed is None else np.asarray(attributed)[chosen]
    predicted = regression.predict(views.select(chosen), painters)
    truth = years[chosen]
    floor = median_year_of_artist[labels[chosen]]
    usable = ~np.isnan(floor)
    errors = np.abs(predicted - truth)
    return {
        "paintings": int(chosen.sum()),
        "mae_years": float(errors.mean()),
        "median_error_years": float(np.median(errors)),
        "artist_median_mae_years": float(np.abs(floor[usable] - truth[usable]).mean()) if usable.any() else None,
        "interval_half_width_years": regression.half_width,
        "interval_coverage": float(np.mean(errors <= regression.half_width)) if np.isfinite(regression.half_width) else None,
        **({"method": "painter-median",
            "regression_mae_years": float(np.abs(regression.predict(views.select(chosen)) - truth).mean())}
           if regression.use_medians and painters is not None else {}),
    }


def median_years(years: np.ndarray, labels: np.ndarray, artists: int) -> np.ndarray:
    """(artists,) each artist's median training year (NaN when none is dated)."""
    medians = np.full(artists, np.nan)
    for artist in range(artists):
        dated = years[(labels == artist) & ~np.isnan(years)]
        if len(dated):
            medians[artist] = float(np.median(dated))
    return medians
