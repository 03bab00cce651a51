"""What a run will do, checked against the data before anything heavy is loaded.

`plan_training` is where a config meets its prepared data: the image size must match, every
artist needs training images, and the ratio must fit the artists. It imports no torch, so
`painterly-vae train` reports such mistakes at once; the Trainer calls it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_tools.processed import ProcessedData
from painterly_vae.config import Config
from painterly_vae.errors import DataError
from painterly_vae.schedule import AlternatingSchedule, parse_ratio


@dataclass(frozen=True)
class TrainingPlan:
    artists: list[str]
    train_counts: list[int]
    schedule: AlternatingSchedule


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
    counts = [data.count(artist, "train") for artist in artists]
    empty = [a for a, n in zip(artists, counts) if n == 0]
    if empty:
        raise DataError(f"no training images for {', '.join(empty)} in {data.root}")
    return TrainingPlan(artists, counts, parse_ratio(config.training.ratio, artists, counts))
