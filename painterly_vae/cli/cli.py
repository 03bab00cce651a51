"""The `painterly-vae` command line: parse arguments, call one function, print a summary.

Mistakes a user can make (a bad option, a missing file, an impossible config value) end with
one line on stderr and exit code 2, never a traceback. The arguments are `parser`'s; each
command's function (`HANDLERS`) imports what it needs when it runs, so `--help` loads no torch.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from painterly_vae.cli.parser import build_parser
from painterly_vae.errors import FitInterrupted, StopRequested, TrainingDiverged, TrainingInterrupted, UsageError
from painterly_vae.runtime.runs import runs_dirs
from painterly_vae.runtime.torchrun_env import rank_from_environment, world_size_from_environment


def _fractions(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--split '{text}' must be three numbers like 0.8,0.1,0.1") from None
    if len(values) != 3:
        raise UsageError(f"--split '{text}' must be three numbers like 0.8,0.1,0.1")
    return values  # type: ignore[return-value]


def _fetch(args: argparse.Namespace) -> int:
    import dataclasses

    from data_tools.artists import resolve_artists
    from data_tools.fetch import FetchOptions, fetch, load_sources_config
    from data_tools.http_client import CONTACT_ENVIRONMENT, HttpSettings
    from painterly_vae.cli.summary import print_fetch_report

    http_values, base_urls = load_sources_config(args.sources_config)
    for flag in ("min_interval", "timeout", "retries", "contact"):
        if getattr(args, flag) is not None:
            http_values[flag] = getattr(args, flag)
    http_values.setdefault("contact", os.environ.get(CONTACT_ENVIRONMENT, ""))
    try:
        http = dataclasses.replace(HttpSettings(), **http_values)
    except TypeError as error:
        raise UsageError(f"bad [http] settings: {error}") from None
    if http.min_interval < 0 or http.timeout <= 0 or http.retries < 0:
        raise UsageError("--min-interval and --retries must not be negative, --timeout must be positive")
    if not http.contact.strip():
        print(f"painterly-vae fetch: no contact given: requests go out as '{http.user_agent}', without one; "
              f"Wikimedia asks for a contact and may refuse requests that have none: pass --contact YOUR-EMAIL-OR-URL (or set "
              f"{CONTACT_ENVIRONMENT}, or contact in [http] of --sources-config)", file=sys.stderr)
    options = FetchOptions(
        source=args.source, out=args.out, limit=args.limit, size=args.size, dry_run=args.dry_run,
        base_url=args.base_url or base_urls.get(args.source), http=http,
    )
    report = fetch(resolve_artists(args.artists), options, progress=not args.no_progress)
    print_fetch_report(report)
    if report.unreachable:
        reason = report.artists[0].listing_error
        print(f"painterly-vae fetch: could not reach {report.source} at {report.base_url} ({reason}); "
              f"check the network or --base-url", file=sys.stderr)
        return 1
    return 0


def _synth(args: argparse.Namespace) -> int:
    from data_tools.synthetic import write_synthetic_raw

    out = write_synthetic_raw(args.out, args.artists, args.per_artist, args.size, args.seed, progress=not args.no_progress)
    print(f"Painted {args.artists} synthetic artists x {args.per_artist} paintings into {out} "
          f"(next: painterly-vae prepare {out})")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from data_tools.prepare import PrepareOptions, prepare
    from painterly_vae.cli.summary import print_prepare_summary

    options = PrepareOptions(
        size=args.size, fit=args.fit, crops=args.crops, min_size=args.min_size, min_images=args.min_images,
        fractions=_fractions(args.split), near_duplicate_distance=args.near_duplicate_bits,
        keep_near_duplicates=args.keep_near_duplicates, workers=args.workers,
    )
    print_prepare_summary(prepare(args.raw, args.out, options, progress=not args.no_progress, overwrite=args.overwrite))
    return 0


def _train_values(args: argparse.Namespace) -> dict[str, object]:
    values: dict[str, object] = {}
    if args.ratio is not None:
        values["training.ratio"] = args.ratio
    if args.epochs is not None:
        values["training.epochs"] = args.epochs
        values["training.steps"] = 0
    if args.steps is not None:
        values["training.steps"] = args.steps
    if args.device is not None:
        values["training.device"] = args.device
    if args.others is not None:
        values["clustering.others"] = _others_folder(args.others)
    return values


def _others_folder(given: str) -> str:
    """--others as the config keeps it: absolute (a later `cluster` may run from elsewhere); '' for none."""
    return str(Path(given).resolve()) if given else ""


def _train(args: argparse.Namespace) -> int:
    from painterly_vae.cli.summary import print_training_summary
    from painterly_vae.cli.train_command import TrainRequest, run_training

    request = TrainRequest(
        config_file=args.config,
        data=args.data,
        name=args.name,
        resume=args.resume,
        values=_train_values(args),
        assignments=args.assignments,
        progress=not args.no_progress,
    )
    summary = run_training(request)
    if rank_from_environment() == 0:  # under torchrun, one summary for the job
        print_training_summary(summary)
    return 0


def _cluster(args: argparse.Namespace) -> int:
    from painterly_vae.inference.fit_progress import FitProgress
    from painterly_vae.inference.trained_run import refit_clusters
    from painterly_vae.runtime.stop_signals import StopSignals

    run = _open_run_for(args)
    with StopSignals() as stop:  # Ctrl-C stops between two pieces of the fit, the stored attribution untouched
        watch = FitProgress(stop, show=not args.no_progress, run_dir=run.run_dir)
        clusters = refit_clusters(run, args.data, args.representation, not args.no_progress, args.accept_share, watch,
                                  None if args.others is None else _others_folder(args.others), args.unknown_threshold)
    unknown = ("a threshold per painter" if clusters.painter_thresholds is not None
               else f"unknown below {clusters.threshold:.4g}")
    print(f"Fitted {clusters.representation} clusters for {len(run.artists)} artists of {run.run_dir} "
          f"(temperature {clusters.temperature:.3g}, {unknown}); stored in checkpoints/last.pt")
    print(f"Attribution {clusters.describe_validation()}")
    if clusters.exposure is not None:
        print(f"Familiarity shown {clusters.exposure.source}")
    if clusters.strangers is not None:
        print(f"The threshold: {clusters.describe_threshold()}.")
    return 0


def _attribute(args: argparse.Namespace) -> int:
    import json

    from painterly_vae.cli.attribute import expand_inputs
    from painterly_vae.inference.answers import attribute_files, describe_run, tally

    files = expand_inputs(args.paths)
    run = _open_run_for(args)
    results = attribute_files(run, files, args.top, progress=not args.no_progress)
    clusters = run.require_clusters()
    if args.json:
        strangers, mix = clusters.strangers, clusters.familiarity_mix
        print(json.dumps({"run": str(run.run_dir), "among": list(run.artists),
                          "representation": clusters.representation, "chosen_on_validation": clusters.selection,
                          "unknown_means": clusters.describe_threshold(),
                          "familiarity_mix": None if mix is None else mix.mix,
                          "strangers_pass_rate": None if strangers is None else round(strangers.pass_rate, 4),
                          "strangers_auroc": None if strangers is None or strangers.auroc is None else round(strangers.auroc, 4),
                          "paintings": [r.to_json() for r in results]}, indent=1, ensure_ascii=False))
    else:
        print(describe_run(run))
        if args.verbose:
            print(f"Attribution {clusters.describe_validation()}")
        for result in results:
            print(result.describe(verbose=args.verbose))
        if len(results) > 1:
            print(tally(results))
    refused = sum(1 for r in results if r.error)
    if refused:
        print(f"painterly-vae attribute: {refused} of {len(results)} file(s) refused (not read, or not a painting to attribute)",
              file=sys.stderr)
    return 1 if refused else 0


def _evaluate(args: argparse.Namespace) -> int:
    from painterly_vae.cli.evaluation_summary import print_evaluation
    from painterly_vae.evaluation.evaluate import evaluate_run
    from painterly_vae.inference.trained_run import open_run
    from painterly_vae.runtime.host_memory import keep_freed_memory_for

    run = _open_run_for(args)
    keep_freed_memory_for(run.device, run.config.training.keep_freed_memory)  # each batch reuses the last one's pages
    baseline = open_run(args.baseline, run.device, args.runs_dir, _weights(args)) if args.baseline else None
    report, out_dir = evaluate_run(run, args.data, args.split, baseline, args.supervised_baseline,
                                   progress=not args.no_progress, pretrained=args.pretrained_baseline,
                                   unknown_split=args.unknown_split)
    print_evaluation(report, out_dir)
    return 0


def _open_run_for(args: argparse.Namespace):
    """The run named by --run (or the latest in --runs-dir) on --device."""
    from painterly_vae.inference.trained_run import open_run
    from painterly_vae.runtime.device import resolve_device

    return open_run(args.run, resolve_device(args.device), args.runs_dir, _weights(args))


def _weights(args: argparse.Namespace) -> dict[str, str]:
    """--weights NETWORK=FILE options as a dict."""
    pairs = {}
    for item in args.weights:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise UsageError(f"--weights expects NETWORK=FILE, got '{item}'")
        pairs[name.strip()] = path.strip()
    return pairs


def _picture(args: argparse.Namespace) -> int:
    """reconstruct, cross, interpolate, sample, map: open the run, write the PNG, say where."""
    from painterly_vae.cli import exploration_commands as pictures

    run = _open_run_for(args)
    make = {
        "reconstruct": lambda: pictures.reconstruct_png(run, args.painting, args.artist, args.out),
        "cross": lambda: pictures.cross_png(run, args.painting, args.out),
        "interpolate": lambda: pictures.interpolate_png(run, args.first, args.second, args.steps, args.first_artist,
                                                        args.second_artist, args.out),
        "sample": lambda: pictures.sample_png(run, args.artist, args.n, args.seed, args.out, not args.no_progress),
        "map": lambda: pictures.map_png(run, args.data, args.split, args.projection, args.per_artist, args.out),
    }[args.command]
    print(f"Wrote {make()}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from painterly_vae.serve.server import serve

    serve(_open_run_for(args), args.data, args.host, args.port, progress=not args.no_progress)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from painterly_vae.cli.demo import run_demo

    run_demo(args.out, steps=args.steps, device=args.device, progress=not args.no_progress)
    return 0


def _interrupted(stopped: TrainingInterrupted) -> str:
    """What a stop kept, in words, and the command that continues it."""
    run = Path(str(stopped.run_dir))
    where = f"stopped by {stopped.signal_name} at step {stopped.step} of {stopped.total}"
    if not stopped.kept:
        return f"{where}, before any step was trained: nothing was kept (run {run.name} has no checkpoint)"
    resume = f"painterly-vae train --resume --name {run.name}"
    if run.parent not in runs_dirs():  # where --resume looks by itself
        resume += f" --set training.runs_dir={run.parent}"
    return f"{where}; that step is kept in {run / 'checkpoints' / 'last.pt'}; continue with: {resume}"


def _fit_interrupted(stopped: FitInterrupted, command: str) -> str:
    """What a stop during the attribution's fit kept, in words, and the command that fits it."""
    run = Path(str(stopped.run_dir))
    where = f"stopped by {stopped.signal_name} while fitting the attribution ({stopped.stage})"
    kept = (f"the trained weights are kept in {run / 'checkpoints' / 'last.pt'}" if command == "train"
            else "the run's stored attribution is as it was")
    return f"{where}; {kept}; fit it with: painterly-vae cluster --run {run}"


def _lost_other_processes(error: Exception) -> bool:
    """A failed collective under torchrun: torch.distributed's errors, or gloo's RuntimeErrors about peers."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is None or world_size_from_environment() < 2:
        return False
    if isinstance(error, getattr(distributed, "DistError", ())):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(
        marker in text for marker in ("gloo", "nccl", "connection reset", "connection closed", "timed out", "by peer")
    )


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "fetch": _fetch, "synth": _synth, "prepare": _prepare, "train": _train, "cluster": _cluster,
    "attribute": _attribute, "evaluate": _evaluate, "reconstruct": _picture, "cross": _picture,
    "interpolate": _picture, "sample": _picture, "map": _picture, "serve": _serve, "demo": _demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = HANDLERS[args.command]
    # under torchrun every process reports; ranks other than 0 say which they are
    prefix = f"painterly-vae {args.command}" + (f" [rank {rank_from_environment()}]" if rank_from_environment() else "")
    try:
        code = handler(args)
        sys.stdout.flush()  # a reader that went away (`| head`) shows up here, not as a traceback at exit
        return code
    except BrokenPipeError:
        # what `head`, `grep -m` or a closed pager do: the output was wanted no further; stop quietly
        # like any Unix tool (exit status of a SIGPIPE death) and keep Python's exit flush from complaining
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except UsageError as error:
        print(f"{prefix}: error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        print(f"{prefix}: training stopped: {error}", file=sys.stderr)
        return 1
    except (TrainingInterrupted, FitInterrupted) as stopped:
        said = (_interrupted(stopped) if isinstance(stopped, TrainingInterrupted)
                else _fit_interrupted(stopped, args.command))
        print(f"{prefix}: {said}", file=sys.stderr)
        return 130 if stopped.signal_name == "Ctrl-C" else 143  # the shell's codes for SIGINT and SIGTERM
    except StopRequested:
        print(
            f"{prefix}: stopped at once by a second SIGTERM (under torchrun: another process of the job failed, see "
            f"torchrun's report); the run keeps its last periodic checkpoint, if it wrote one, and continues with --resume",
            file=sys.stderr,
        )
        return 143
    except Exception as error:
        if not _lost_other_processes(error):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(
            f"{prefix}: stopped: lost contact with the other training processes (one crashed, was killed, or "
            f"did not answer within training.distributed_timeout_s): {reason}. Checkpoints up to the last "
            f"checkpoint_every step are kept; continue with --resume, with any number of processes",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"painterly-vae {args.command}: interrupted", file=sys.stderr)
        return 130
