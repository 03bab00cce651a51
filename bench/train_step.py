"""Training-step throughput: the project's real step against a naive reference, side by side.

    python bench/train_step.py [--quick] [--sizes 64 128 256] [--batch 16] [--device auto]

"ours" is `Trainer.train_step` itself (the code `painterly-vae train` runs: precision from
`training.precision = auto`, channels-last, one backward pass with the latent gradient
scaled). "naive" is how a first reading of the paper would write the same step for the same
architecture: fp32, NCHW, and two backward passes (the encoder's KL + 100 L1, then the
decoder's 1000 L1). Repetitions of the two are interleaved so drift on a shared machine hits
both; the median is reported. FLOPs of one step are counted with torch.utils.flop_counter and
compared with the machine's peak, measured in the same run with a large matmul in the dtype
each step computes in. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_tools.processed import ProcessedData, write_processed  # noqa: E402
from painterly_vae.config import Config  # noqa: E402
from painterly_vae.model.losses import kl_term, l1_term  # noqa: E402
from painterly_vae.runtime.device import resolve_device  # noqa: E402
from painterly_vae.runtime.precision import describe  # noqa: E402
from painterly_vae.training.trainer import Trainer  # noqa: E402

ARTISTS = 2


def naive_step(trainer: Trainer, images: torch.Tensor, artist: int) -> None:
    """fp32, NCHW, the two losses backpropagated one after the other."""
    model, loss = trainer.model, trainer.config.loss
    encoder = model.encoder_for(artist)
    encoder_optimizer = trainer.encoder_optimizers[model.encoder_index(artist)]
    encoder_optimizer.zero_grad()
    trainer.decoder_optimizer.zero_grad()
    output = model(images, artist)
    l1 = l1_term(output.reconstruction, images, loss.l1_reduction)
    kl = kl_term(output.mu, output.logvar, loss.kl_reduction)
    (loss.kl_weight * kl + loss.encoder_l1_weight * l1).backward(retain_graph=True)
    encoder_grads = [p.grad.clone() for p in encoder.parameters()]
    trainer.decoder_optimizer.zero_grad()
    (loss.decoder_l1_weight * l1).backward()
    for parameter, grad in zip(encoder.parameters(), encoder_grads):
        parameter.grad = grad
    encoder_optimizer.step()
    trainer.decoder_optimizer.step()


def build_trainer(size: int, batch: int, device: torch.device, precision: str, channels_last: bool, root: Path) -> Trainer:
    rng = np.random.default_rng(0)
    arrays = {f"artist-{a}": {"train": rng.integers(0, 256, (batch * 2, 3, size, size), dtype=np.uint8)} for a in range(ARTISTS)}
    rows = {a: {"train": [{}] * (batch * 2)} for a in arrays}
    data_dir = write_processed(root / f"data-{size}", arrays, rows, {"benchmark": True})
    config = Config().with_values({
        "model.image_size": size, "training.batch_size": batch, "training.device": str(device),
        "training.precision": precision, "training.channels_last": channels_last, "training.steps": 10,
    })
    return Trainer(config, ProcessedData.open(data_dir), root / f"run-{size}-{precision}", device)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(step, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return time.perf_counter() - start


def step_flops(step) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def matmul_peak(device: torch.device, dtype: torch.dtype, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a large square matmul in `dtype`: the practical peak of this machine."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)
    best = min(timed(lambda: torch.mm(a, b), device) for _ in range(repeats))
    return 2 * n**3 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under a minute on 2 cores)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    repeats = 3 if args.quick else 7
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"median of {repeats} interleaved repetitions")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        results = []
        for size in args.sizes:
            ours = build_trainer(size, args.batch, device, "auto", True, root)
            naive = build_trainer(size, args.batch, device, "fp32", False, root)
            images = ours.batches.batch(0)
            ours_step = lambda: ours.train_step(0, images)  # noqa: E731
            naive_step_ = lambda: naive_step(naive, images, 0)  # noqa: E731
            ours_step(), naive_step_()  # warm up
            ours_times, naive_times = [], []
            for _ in range(repeats):
                ours_times.append(timed(ours_step, device))
                naive_times.append(timed(naive_step_, device))
            ours_img_s = args.batch / statistics.median(ours_times)
            naive_img_s = args.batch / statistics.median(naive_times)
            ours_dtype = ours.amp_dtype or torch.float32
            peak = matmul_peak(device, ours_dtype)
            achieved = step_flops(ours_step) * ours_img_s / args.batch
            results.append((size, ours_img_s, naive_img_s, achieved / peak))
            print(f"{size:>4} px  ours ({describe(ours.amp_dtype)}, channels-last, one backward) {ours_img_s:7.1f} img/s   "
                  f"naive (fp32, NCHW, two backwards) {naive_img_s:7.1f} img/s   ratio {ours_img_s / naive_img_s:5.2f}   "
                  f"ours {achieved / 1e9:6.1f} GFLOP/s = {achieved / peak:.0%} of the {describe(ours.amp_dtype)} matmul peak "
                  f"{peak / 1e9:.0f} GFLOP/s")
    size, ours_img_s, naive_img_s, fraction = results[-1]
    print(f"train_step size={size} batch={args.batch} ours_img_s={ours_img_s:.1f} naive_img_s={naive_img_s:.1f} "
          f"ratio={ours_img_s / naive_img_s:.2f} peak_fraction={fraction:.2f}")


if __name__ == "__main__":
    main()
