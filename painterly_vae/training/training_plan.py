"""What a run will do, checked against the data before anything heavy is loaded.

`plan_training` is where a config meets its prepared data: the image size must match, there
must be two artists at least (one is not an attribution), every artist needs training images,
and the ratio must fit the artists. It imports no torch, so
`painterly-vae train` reports such mistakes at once; the Trainer calls it too. Before that,
`follow_data_size` lets a new run take the data's image size when the user did not choose one:
`prepare --size 128` then `train` just works.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import ConfigError, DataError
from painterly_vae.training.schedule import AlternatingSchedule, parse_ratio


@dataclass(frozen=True)
class TrainingPlan:
    artists: list[str]
    train_counts: list[int]
    schedule: AlternatingSchedule


def follow_data_size(config: Config, data: ProcessedData, chosen: set[str]) -> Config:
    """`config` with the size the model reads set to the data's, unless the user chose it
    (`chosen`: dotted keys from their config file or --set); then a mismatch stays an error.

    Without a trunk that size is model.image_size; with one it is model.trunk_image_size (the
    decoder keeps its model.image_size, which must not exceed the data's)."""
    m = config.model
    key = "model.trunk_image_size" if m.trunk else "model.image_size"
    if data.image_size == m.input_size or key in chosen or (m.trunk and data.image_size < m.image_size):
        return config
    try:
        return config.with_values({key: data.image_size})
    except ConfigError as error:
        raise DataError(f"the data at {data.root} is {data.image_size} px, a size the model cannot read ({error}): "
                        f"prepare at --size 64, 128 or 256") from None


def plan_training(config: Config, data: ProcessedData) -> TrainingPlan:
    m = config.model
    if data.image_size != m.input_size:
        if m.trunk:
            raise DataError(
                f"the data at {data.root} is {data.image_size} px but the model reads {m.input_size} px (the larger of "
                f"model.image_size {m.image_size} and model.trunk_image_size {m.trunk_size}): prepare at --size "
                f"{m.input_size} or change those keys"
            )
        raise DataError(
            f"the data at {data.root} is {data.image_size} px but model.image_size is "
            f"{m.image_size}: use --set model.image_size={data.image_size} or prepare at "
            f"--size {m.image_size}"
        )
    artists = data.artists
    if len(artists) < 2:
        held = f"one artist ({artists[0]})" if artists else "no artist"
        raise DataError(f"the data at {data.root} holds {held}: attribution chooses between painters, so training "
                        f"needs at least two; add another artist's folder to the raw paintings and prepare again")
    counts = [data.count(artist, "train") for artist in artists]
    empty = [a for a, n in zip(artists, counts) if n == 0]
    if empty:
        raise DataError(f"no training images for {', '.join(empty)} in {data.root}")
    schedule = parse_ratio(config.training.ratio, artists, counts, config.training.interleave)
    return TrainingPlan(artists, counts, schedule)
