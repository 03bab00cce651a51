"""The end-of-command summaries a person reads: what happened and where things are."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:

    # keep `prepare` and `fetch` free of torch imports
    from data_tools.fetch import FetchReport
    from data_tools.prepare import PrepareSummary
    from painterly_vae.training.monitoring import TrainingSummary


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
    if summary.attribution is not None:
        lines.append(f"  attribution       {summary.attribution}")
    lines += [
        f"  non-finite steps  {summary.nonfinite_steps} skipped",
        f"  checkpoints       {run / 'checkpoints' / 'last.pt'}, {run / 'checkpoints' / 'best.pt'}",
        f"  config, log       {run / 'config.toml'}, {run / 'train.log'}",
        f"  TensorBoard       tensorboard --logdir {run / 'tensorboard'}",
    ]
    print("\n".join(lines))


def print_prepare_summary(summary: "PrepareSummary") -> None:
    from data_tools.decode import REASONS
    from data_tools.prepare import PREPARE_REASONS

    if summary.up_to_date:
        print(f"{summary.out} is up to date with {summary.raw} (same files and options): nothing to do")
    reasons = sorted({r for a in summary.artists.values() for r in a.rejected})
    header = ["artist", "found", "kept", "train", "val", "test", *reasons]
    table = [header]
    for artist, a in summary.artists.items():
        name = f"{artist} (dropped)" if a.dropped else artist
        table.append([name, a.found, a.kept_paintings, *a.per_split.values(), *(a.rejected.get(r, 0) for r in reasons)])
    print_table(table)
    explained = {**REASONS, **PREPARE_REASONS}
    for reason in reasons:
        print(f"  {reason}: {explained.get(reason, reason)}")
    for artist, a in summary.artists.items():
        if a.dropped:
            print(f"warning: dropped {artist}: only {a.kept_paintings} usable paintings (see --min-images)", file=sys.stderr)
    for conflict in summary.conflicts:
        print(f"warning: the same painting under {conflict['artists']}, kept in neither: {conflict['files']}", file=sys.stderr)
    if not summary.up_to_date:
        print(f"Prepared {summary.files} files in {summary.seconds:.1f} s ({summary.images_per_second:.1f} images/s) -> {summary.out}")


def print_fetch_report(report: "FetchReport") -> None:
    reasons = sorted({r for a in report.artists for r in a.rejected})
    failures = sorted({r for a in report.artists for r in a.failed})
    dry = report.dry_run
    header = ["artist", "listed", "would fetch" if dry else "downloaded", "skipped", "refetched",
              *[f"rejected: {r}" for r in reasons], *[f"failed: {r}" for r in failures], "listing"]
    table: list[list[object]] = [header]
    for a in report.artists:
        listing = "complete" if a.complete else (f"stopped: {a.listing_error}" if a.listing_error else "partial (limit)")
        table.append([a.artist, a.listed, len(a.would_fetch) if dry else a.downloaded, a.skipped, a.refetched,
                      *(a.rejected.get(r, 0) for r in reasons), *(a.failed.get(r, 0) for r in failures), listing])
    print_table(table, text_columns={0, len(header) - 1})
    for a in report.artists:
        for work in a.would_fetch[:3]:
            print(f"  would fetch {a.artist}: {work.title} ({work.year or 'undated'}) {work.image_url}")
    print(f"{counted(report.requests, 'request')} to {report.source} ({report.base_url}); files under {report.out}")


def counted(number: int, noun: str) -> str:
    """`1 request`, `2 requests`: a count a person reads without tripping."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def print_table(table: list[list[object]], text_columns: set[int] = frozenset({0})) -> None:
    """Text columns left-aligned, numbers right-aligned; a short row leaves its last cells blank."""
    columns = max(len(row) for row in table)
    table = [list(row) + [""] * (columns - len(row)) for row in table]
    widths = [max(len(str(row[i])) for row in table) for i in range(columns)]
    for row in table:
        print("  ".join(str(cell).ljust(w) if i in text_columns else str(cell).rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
