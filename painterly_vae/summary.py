"""The end-of-command summaries a person reads: what happened and where things are."""

from __future__ import annotations

from painterly_vae.trainer import TrainingSummary


def print_training_summary(summary: TrainingSummary) -> None:
    run = summary.run_dir
    lines = [
        f"Training finished: {run}",
        f"  steps             {summary.steps} ({summary.steps_this_session} this session) in "
        f"{summary.seconds:.1f} s, {summary.images_per_second:.1f} images/s",
    ]
    if summary.best_val_loss is not None:
        lines.append(f"  best val loss     {summary.best_val_loss:.4f}")
    if summary.final is not None:
        final = summary.final
        lines.append(
            f"  final validation  KL {final.kl_total:.1f} nats over {len(final.kl_per_dimension)} dims, "
            f"{final.active_units} active units"
        )
        lines.append("  val L1 per artist " + ", ".join(f"{a} {v:.4f}" for a, v in final.l1.items()))
    lines += [
        f"  non-finite steps  {summary.nonfinite_steps} skipped",
        f"  checkpoints       {run / 'checkpoints' / 'last.pt'}, {run / 'checkpoints' / 'best.pt'}",
        f"  config, log       {run / 'config.toml'}, {run / 'train.log'}",
        f"  TensorBoard       tensorboard --logdir {run / 'tensorboard'}",
    ]
    print("\n".join(lines))
