"""What `evaluate` prints: the run beside every baseline, then the rest of the report, read
from the typed report (`evaluation.report`), so an old report.json prints the same way."""

from __future__ import annotations

from pathlib import Path

from painterly_vae.cli.summary import print_table
from painterly_vae.evaluation.baselines import shown
from painterly_vae.evaluation.report import RECONSTRUCTION_MEASURE_NAMES, Accuracy, Baseline, EvaluationReport
from painterly_vae.inference.hard_pairs import most_confused
from painterly_vae.inference.representation_choice import describe_selection


def print_evaluation(report: EvaluationReport, out_dir: Path) -> None:
    attribution = report.attribution
    known, unknown = report.paintings["known"], report.paintings["unknown_artists"]
    where = f"all of {report.data}" if report.split == "all" else f"the {report.split} split of {report.data}"
    print(f"Evaluation of {report.run} on {where}: {known + unknown} paintings, {known} by its "
          f"{len(report.artists)} artists, {unknown} by artists it does not know"
          + (f" (theirs from {'every split' if report.unknown_split == 'all' else 'the ' + report.unknown_split + ' split'})"
             if report.unknown_split else ""))
    rows: list[list[object]] = [["", "top-1", "top-3", "balanced"]]
    rows.append([f"this run ({report.encoders}, {report.representation})", *_percentages(attribution)])
    for name, values in (report.representations or {}).items():
        rows.append([f"  representation: {name}", *_percentages(values)])
    rows += [[label, *_percentages(result)] for label, result in shown(report)]
    leads = any(len(row) > 4 for row in rows[1:])
    if leads:
        rows[0] += ["run's lead: top-1", "balanced"]
    print_table(rows)
    if leads:
        print(f"run's lead: this run's accuracy minus the baseline's on the same {known} paintings, in points, with its "
              "95% paired bootstrap interval; an interval that holds 0 is a tie")
    print("per artist (precision / recall): " + ", ".join(
        f"{a} {m['precision']:.2f}/{m['recall']:.2f}" for a, m in attribution.per_artist.items()))
    confused = most_confused(attribution.confusion, report.artists)
    if confused:
        print("most confused pairs (paintings of either attributed to the other, of all theirs; each way): "
              + "; ".join(pair.describe() for pair in confused))
    print(f"calibration: expected calibration error {attribution.expected_calibration_error:.3f}")
    unknown_metrics = report.unknown
    line = f"unknown: false rejections {unknown_metrics.false_rejection_rate:.1%} of known paintings"
    if unknown_metrics.auroc is not None:
        line += f"; unknown artists flagged {unknown_metrics.detection_rate:.1%}, AUROC {unknown_metrics.auroc:.3f}"
        line += " (" + "; ".join(f"{name} {values['auroc']:.2f}, {values['detection_rate']:.0%} flagged"
                                 for name, values in (unknown_metrics.per_artist or {}).items()) + ")"
    if unknown_metrics.held_out_auroc is not None:
        line += (f"; leaving {unknown_metrics.held_out_painters or 'each painter'} out in turn (validation): flagged "
                 f"{unknown_metrics.held_out_flagged:.1%}, "
                 f"AUROC {unknown_metrics.held_out_auroc:.3f} (familiarity: {unknown_metrics.familiarity_mix})")
    print(line)
    if unknown_metrics.false_rejections_per_artist:
        over = ("of each painter's own paintings through, painter by painter" if unknown_metrics.threshold_rule == "per-painter"
                else "of its validation paintings through, over all painters")
        print(f"known paintings called unknown, by painter (the run lets {unknown_metrics.accept_share_on_val:.0%} {over}): "
              + ", ".join(
                  f"{artist} {share:.0%}" for artist, share in unknown_metrics.false_rejections_per_artist.items()))
    if unknown_metrics.plausible_coverage is not None:
        line = (f"plausible painters: the painting's own in its set for {unknown_metrics.plausible_coverage:.1%} of known "
                f"paintings (" + ", ".join(f"{artist} {share:.0%}" for artist, share in
                                          (unknown_metrics.plausible_coverage_per_artist or {}).items())
                + f"), {unknown_metrics.plausible_size:.2f} painters a set")
        if unknown_metrics.plausible_empty_strangers is not None:
            line += f"; none plausible for {unknown_metrics.plausible_empty_strangers:.1%} of the unknown artists' paintings"
        print(line)
    chosen = describe_selection(report.selection)
    if chosen:
        print(f"representation {report.representation}, {chosen}")
    clustering = report.clustering
    if clustering:
        print(f"clusters of the latents: k-means NMI {clustering['kmeans']['nmi']:.3f} ARI {clustering['kmeans']['ari']:.3f}; "
              f"Gaussian mixture NMI {clustering['gaussian_mixture']['nmi']:.3f}; "
              f"silhouette of the true artists {clustering['silhouette_of_true_artists']:.3f}")
    dating = report.dating
    if dating is not None:
        floor = dating.artist_median_mae_years
        how = ("by the attributed painter's median year (chosen on validation paintings; the regression from the "
               f"painting: {dating.regression_mae_years:.1f})" if dating.method == "painter-median" else "")
        print(f"dating{' ' + how if how else ''}: mean absolute error {dating.mae_years:.1f} years on {dating.paintings} dated paintings"
              + (f" (each artist's median year: {floor:.1f})" if floor is not None else "")
              + (f"; interval +/-{dating.interval_half_width_years:.1f} years covers {dating.interval_coverage:.0%}"
                 if dating.interval_coverage is not None else ""))
    mean = report.reconstruction["mean"]
    print(f"reconstruction (own encoder): L1 {mean.l1:.4f}, PSNR {mean.psnr:.2f} dB, SSIM {mean.ssim:.3f}, "
          f"sharpness {mean.sharpness:.2f} of the input's")
    variety = _variety(report.reconstruction)
    if variety:  # a line of its own: reports from before it print as they did
        print(variety)
    fidelity = report.fidelity
    if fidelity is not None:
        line = (f"recognisable: {fidelity.retrieval_top1:.0%} of the reconstructions retrieve their own painting among "
                f"{fidelity.paintings}; colour off by {fidelity.channel_mean_error:.1f}/255 (histograms "
                f"{fidelity.colour_histogram_distance:.2f} apart)")
        if fidelity.readout_retrieval_top1 is not None:
            line += f"; a linear read-out of z retrieves {fidelity.readout_retrieval_top1:.0%}"
        if fidelity.style_reconstructions is not None:
            line += (f"; the network's style probe names the painter of {fidelity.style_reconstructions:.0%} of the "
                     f"reconstructions ({fidelity.style_originals:.0%} of the originals at that size"
                     + (f"; balanced over painters: {fidelity.style_reconstructions_balanced:.0%} of the reconstructions, "
                        f"{fidelity.style_originals_balanced:.0%} of the originals" if fidelity.style_reconstructions_balanced is not None
                        else "")
                     + f"); Fréchet distance {fidelity.frechet_distance:.3g}")
        print(line)
        _generation_lines(fidelity)
    print(f"report: {out_dir / 'report.json'}; plots: " + ", ".join(str(out_dir / p) for p in report.plots))


def _variety(reconstruction) -> str:
    """'variety kept: 0.81 ... (least: edouard-manet 0.30)': a painter whose paintings all come
    back as one picture shows here, where the means over every painting hide it ('' when not measured)."""
    varieties = {artist: q.variety_kept for artist, q in reconstruction.items()
                 if artist != "mean" and q.variety_kept is not None}
    if not varieties:
        return ""
    least = min(varieties, key=varieties.get)
    return (f"variety kept: each painter's reconstructions differ {reconstruction['mean'].variety_kept:.2f} as much as "
            f"its paintings do (mean over painters; least: {least} {varieties[least]:.2f})")


def _generation_lines(fidelity) -> None:
    """Crossings, samples and the paired comparison with --baseline's reconstructions, when measured."""
    if fidelity.crossings:
        mean = fidelity.crossings["mean"]
        print(f"crossings: the style probe gives the encoder's painter {mean['crossings']:.0%} on a painting crossed "
              f"through that encoder, {mean['own_reconstructions']:.0%} on its own reconstruction "
              f"(shift {mean['shift']:+.0%})")
    if fidelity.samples_frechet:
        pairs = [f"{artist} {d['samples']:.3g} ({d['reconstructions']:.3g})" for artist, d in fidelity.samples_frechet.items()]
        print("samples: Fréchet distance of each artist's samples to its paintings (its reconstructions'): "
              + ", ".join(pairs))
    compared = fidelity.against_baseline
    if compared:
        cells = [_paired_cell(RECONSTRUCTION_MEASURE_NAMES[name], m) for name, m in compared["measures"].items()]
        if "style_balanced" in compared:
            cells.append(_paired_cell("style probe balanced over painters", compared["style_balanced"]))
        if "frechet_distance" in compared:
            cells.append(f"Fréchet {compared['frechet_distance']['ours']:.3g} vs {compared['frechet_distance']['theirs']:.3g}")
        print(f"reconstructions against the baseline run ({compared['encoders']} encoders), same paintings, "
              f"paired: " + "; ".join(cells))
        if compared.get("per_artist"):
            print(_per_artist_line(compared["per_artist"]))


def _paired_cell(label: str, m: dict) -> str:
    """'SSIM 0.39 vs 0.4 (behind, 95% [-0.011, -0.008])': one measure of ours against the baseline's."""
    return f"{label} {m['ours']:.3g} vs {m['theirs']:.3g} ({m['verdict']}, 95% [{m['interval'][0]:+.3g}, {m['interval'][1]:+.3g}])"


def _per_artist_line(per_artist: dict[str, dict]) -> str:
    """Painter by painter, the measures whose paired interval leaves no tie, with the difference."""
    cells = []
    for name, label in RECONSTRUCTION_MEASURE_NAMES.items():
        for verdict in ("ahead", "behind"):
            painters = [f"{artist} {measures[name]['difference']:+.3g}" for artist, measures in per_artist.items()
                        if name in measures and measures[name]["verdict"] == verdict]
            if painters:
                cells.append(f"{label}: {verdict} for " + ", ".join(painters))
    return ("  by painter (paired on each painter's paintings): "
            + ("; ".join(cells) if cells else "level on every measure for every painter"))


def _percentages(values: Accuracy | Baseline) -> list[str]:
    """Top-1, top-3, balanced accuracy; for a baseline also the run's lead over it, in points with
    its 95% paired bootstrap interval (`paired_comparison`)."""
    cells = [f"{value:.1%}" if value is not None else "-"
             for value in (values.top1, values.top3, values.balanced_accuracy)]
    lead = getattr(values, "run_minus_baseline", None)
    if lead is not None:
        cells += [lead.top1.points(), lead.balanced_accuracy.points()]
    return cells
