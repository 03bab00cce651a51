"""The end-of-command summaries a person reads: what happened and where things are."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    # keep `prepare` and `fetch` free of torch imports
    from data_tools.fetch import FetchReport
    from data_tools.prepare import PrepareSummary
    from painterly_vae.training.trainer import TrainingSummary


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
    _print_table(table)
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
    _print_table(table, text_columns={0, len(header) - 1})
    for a in report.artists:
        for work in a.would_fetch[:3]:
            print(f"  would fetch {a.artist}: {work.title} ({work.year or 'undated'}) {work.image_url}")
    print(f"{counted(report.requests, 'request')} to {report.source} ({report.base_url}); files under {report.out}")


def counted(number: int, noun: str) -> str:
    """`1 request`, `2 requests`: a count a person reads without tripping."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def print_evaluation(report: dict, out_dir: "Path") -> None:
    attribution = report["attribution"]
    known, unknown = report["paintings"]["known"], report["paintings"]["unknown_artists"]
    where = f"all of {report['data']}" if report["split"] == "all" else f"the {report['split']} split of {report['data']}"
    print(f"Evaluation of {report['run']} on {where}: {known + unknown} paintings, {known} by its "
          f"{len(report['artists'])} artists, {unknown} by artists it does not know")
    rows: list[list[object]] = [["", "top-1", "top-3", "balanced"]]
    rows.append([f"this run ({report['encoders']}, {report['representation']})", *_percentages(attribution)])
    for name, values in (report.get("representations") or {}).items():
        rows.append([f"  representation: {name}", *_percentages(values)])
    baselines = report.get("baselines", {})
    if "run" in baselines:
        rows.append([f"baseline run ({baselines['run']['encoders']})", *_percentages(baselines["run"])])
    if "colour_histogram" in baselines:
        rows.append(["colour histogram + logistic regression", *_percentages(baselines["colour_histogram"])])
    for name, pretrained in baselines.get("pretrained_features", {}).items():
        features = pretrained["features"]
        reduced = f" + {pretrained['components']} components" if pretrained.get("components") else ""
        rows.append([f"{name.split()[0]} {features} ({', '.join(pretrained['layers'])}; {pretrained['image_size']} px){reduced}"
                     " + logistic regression" + (f" (unknown AUROC {pretrained['unknown_auroc']:.3f})"
                                                   if "unknown_auroc" in pretrained else ""),
                     *_percentages(pretrained)])
    if "supervised_encoder" in baselines:
        supervised = baselines["supervised_encoder"]
        rows.append([f"supervised encoder (epoch {supervised['best_epoch']} of {supervised['epochs']}, by val)",
                     *_percentages(supervised)])
    leads = any(len(row) > 4 for row in rows[1:])
    if leads:
        rows[0] += ["run's lead: top-1", "balanced"]
    _print_table(rows)
    if leads:
        print(f"run's lead: this run's accuracy minus the baseline's on the same {known} paintings, in points, with its "
              "95% paired bootstrap interval; an interval that holds 0 is a tie")
    print("per artist (precision / recall): " + ", ".join(
        f"{a} {m['precision']:.2f}/{m['recall']:.2f}" for a, m in attribution["per_artist"].items()))
    print(f"calibration: expected calibration error {attribution['expected_calibration_error']:.3f}")
    unknown_metrics = report["unknown"]
    line = f"unknown: false rejections {unknown_metrics['false_rejection_rate']:.1%} of known paintings"
    if "auroc" in unknown_metrics:
        line += f"; unknown artists flagged {unknown_metrics['detection_rate']:.1%}, AUROC {unknown_metrics['auroc']:.3f}"
        line += " (" + ", ".join(f"{name} {values['auroc']:.2f}" for name, values in unknown_metrics["per_artist"].items()) + ")"
    print(line)
    clustering = report.get("clustering") or {}
    if clustering:
        print(f"clusters of the latents: k-means NMI {clustering['kmeans']['nmi']:.3f} ARI {clustering['kmeans']['ari']:.3f}; "
              f"Gaussian mixture NMI {clustering['gaussian_mixture']['nmi']:.3f}; "
              f"silhouette of the true artists {clustering['silhouette_of_true_artists']:.3f}")
    dating = report.get("dating") or {}
    if dating:
        floor = dating["artist_median_mae_years"]
        print(f"dating: mean absolute error {dating['mae_years']:.1f} years on {dating['paintings']} dated paintings"
              + (f" (each artist's median year: {floor:.1f})" if floor is not None else "")
              + (f"; interval +/-{dating['interval_half_width_years']:.1f} years covers {dating['interval_coverage']:.0%}"
                 if dating.get("interval_coverage") is not None else ""))
    mean = report["reconstruction"]["mean"]
    print(f"reconstruction (own encoder): L1 {mean['l1']:.4f}, PSNR {mean['psnr']:.2f} dB, SSIM {mean['ssim']:.3f}, "
          f"sharpness {mean['sharpness']:.2f} of the input's")
    print(f"report: {out_dir / 'report.json'}; plots: " + ", ".join(str(out_dir / p) for p in report["plots"]))


def _percentages(values: dict) -> list[str]:
    """Top-1, top-3, balanced accuracy; for a baseline also the run's lead over it, in points with
    its 95% paired bootstrap interval (`paired_comparison`)."""
    cells = [f"{values[k]:.1%}" if values.get(k) is not None else "-" for k in ("top1", "top3", "balanced_accuracy")]
    lead = values.get("run_minus_baseline")
    if lead is not None:
        cells += [_points(lead[k]) for k in ("top1", "balanced_accuracy")]
    return cells


def _points(difference: dict) -> str:
    """A difference of two accuracies and its interval, in percentage points: `+2.9 [-0.3, +6.2]`."""
    low, high = difference["interval"]
    return f"{difference['difference'] * 100:+.1f} [{low * 100:+.1f}, {high * 100:+.1f}]"


def _print_table(table: list[list[object]], text_columns: set[int] = frozenset({0})) -> None:
    """Text columns left-aligned, numbers right-aligned; a short row leaves its last cells blank."""
    columns = max(len(row) for row in table)
    table = [list(row) + [""] * (columns - len(row)) for row in table]
    widths = [max(len(str(row[i])) for row in table) for i in range(columns)]
    for row in table:
        print("  ".join(str(cell).ljust(w) if i in text_columns else str(cell).rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
