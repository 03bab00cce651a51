"""Each encoder's running statistics in the shared decoder, recomputed once training ends.

With `model.decoder_norm = "encoder"` the decoder keeps one row of BatchNorm statistics per
encoder (`model.encoder_statistics`). Training fills them as BatchNorm does, by a moving
average over the last steps; for the row of a painter with few steps (Manet takes one step in
39 under `--ratio auto`) those are few batches spread over the whole run. So at the end, before
the clusters are fitted on the decoder's reconstructions, every row is recomputed as the plain
average over batches of its own painters' training paintings, taken as training takes them
(the training batch size, z drawn from the posterior, the decoder's dropout on): what
`torch.optim.swa_utils.update_bn` does for a single set of statistics. The weights do not
change. Runs of other decoders are left as they are.
"""

from __future__ import annotations

import numpy as np
import torch

from data_tools.processed import ProcessedData
from painterly_vae.model.encoder_statistics import PerEncoderBatchNorm
from painterly_vae.model.model import PainterlyVAE, reparameterize
from painterly_vae.model.trunk_cache import TrunkCache
from painterly_vae.runtime.batched import InferenceSettings
from painterly_vae.runtime.batches import to_device_images
from painterly_vae.runtime.precision import autocast

PAINTINGS_PER_ARTIST = 256  # the first ones of each artist's training split: 8 batches of 32


def recompute_decoder_statistics(model: PainterlyVAE, data: ProcessedData, settings: InferenceSettings,
                                 batch_size: int, paintings: int = PAINTINGS_PER_ARTIST, seed: int = 0,
                                 cache: TrunkCache | None = None) -> bool:
    """Recompute every encoder's row from its artists' training paintings; False (nothing done)
    when the decoder keeps no statistics per encoder. Deterministic for a seed (its own RNG stream).
    `cache`: the training's trunk maps, read instead of running the trunk again."""
    norms = [m for m in model.shared_decoder.modules() if isinstance(m, PerEncoderBatchNorm)]
    if not norms:
        return False
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    model.eval()
    model.shared_decoder.train()  # batch statistics and dropout, as in training
    encoders = model.encoder_of_each_artist()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[settings.device] if settings.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for artist, name in enumerate(model.artists):
                images = np.asarray(data.array(name, "train")[:paintings])
                cached = None if cache is None else data.artists.index(name)  # the cache's artist order is the data's
                for start in range(0, len(images), batch_size):
                    batch = model.laid_out(to_device_images(images[start:start + batch_size], settings.device))
                    if len(batch) < 2:
                        continue  # one painting has no batch statistics
                    with autocast(settings.device, settings.amp_dtype):
                        if cache is None:
                            inputs = model.inputs(batch).encoder
                        else:
                            rows = np.arange(start, start + len(batch))
                            inputs = cache.inputs(model, cached, rows, batch).encoder
                        posterior = model.encoders[encoders[artist]](inputs)
                        model.shared_decoder(reparameterize(posterior.mu, posterior.logvar), encoders[artist])
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        model.eval()
    return True
