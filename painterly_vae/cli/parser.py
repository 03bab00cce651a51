"""The `painterly-vae` command line's arguments: every subcommand, its options and their help.

Only argparse here and nothing that loads torch, so `--help` and a usage mistake answer at
once; `cli` maps each command to the function that does its work.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from data_tools.geometry import FITS
from painterly_vae import __version__
from painterly_vae.config import CHOSEN_REPRESENTATION, REPRESENTATIONS, UNKNOWN_THRESHOLDS
from painterly_vae.feature_networks import NETWORKS

DESCRIPTION = "The `painterly-vae` command line: parse arguments, call one function, print a summary."
OTHERS_HELP = ("a folder of paintings by painters the run does not know (any depth): the unknown-artist "
               "familiarity learns from them what someone else looks like; runs with a trunk")


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="painterly-vae", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"painterly-vae {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrorParser)
    for register in (_add_fetch, _add_synth, _add_prepare, _add_train, _add_cluster, _add_attribute, _add_evaluate,
                     _add_reconstruct, _add_cross, _add_interpolate, _add_sample, _add_map, _add_serve, _add_demo):
        register(commands)
    return parser


def _add_fetch(commands: argparse._SubParsersAction) -> None:
    fetch = commands.add_parser(
        "fetch",
        help="download paintings per artist with their provenance (resumable, polite)",
        description="Download paintings into data/raw/<artist>/ with a manifest of sources and licences.",
    )
    fetch.add_argument("--artists", action="append", metavar="NAMES",
                       help="names or slugs, comma-separated, or @file with one per line (default: the paper's six)")
    fetch.add_argument("--source", default="commons", help="commons (default, licence per file) or wikiart")
    fetch.add_argument("--limit", type=_positive_int, help="images to store per artist (default: all)")
    fetch.add_argument("--out", type=Path, default=Path("data/raw"), help="raw folder (default data/raw)")
    fetch.add_argument("--size", type=_positive_int, default=1024, help="longest side to ask the server for (default 1024)")
    fetch.add_argument("--dry-run", action="store_true", help="list what would be fetched, download nothing")
    fetch.add_argument("--base-url", help="the source's API address (mirrors, proxies, tests)")
    fetch.add_argument("--sources-config", type=Path, help="TOML with [http] settings and [<source>] base_url")
    fetch.add_argument("--min-interval", type=float, help="seconds between requests to one host (default 1)")
    fetch.add_argument("--timeout", type=float, help="seconds to wait for a server (default 30)")
    fetch.add_argument("--retries", type=int, help="retries per request (default 5)")
    fetch.add_argument("--contact", help="your URL or e-mail for the User-Agent (Wikimedia asks for one; or set PAINTERLY_VAE_CONTACT)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_synth(commands: argparse._SubParsersAction) -> None:
    synth = commands.add_parser(
        "synth",
        help="paint synthetic artists into the raw layout (for trying things without the internet)",
        description="Paint K synthetic painters, each with its own palette, strokes and composition habits.",
    )
    synth.add_argument("--artists", type=_positive_int, default=4, help="number of painters (default 4)")
    synth.add_argument("--per-artist", type=_positive_int, default=200, help="paintings per painter (default 200)")
    synth.add_argument("--out", type=Path, default=Path("data/synthetic"), help="raw folder to write (default data/synthetic)")
    synth.add_argument("--size", type=_positive_int, default=256, help="shorter side of each painting in pixels (default 256)")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.add_argument("--seed", type=int, default=0, help="same seed, same paintings (default 0)")


def _add_prepare(commands: argparse._SubParsersAction) -> None:
    prepare = commands.add_parser(
        "prepare",
        help="turn a folder of artist sub-folders into training arrays",
        description="Decode, clean, deduplicate, split and square paintings into the processed format.",
    )
    prepare.add_argument("raw", nargs="?", type=Path, default=Path("data/raw"), help="folder of artist sub-folders (default data/raw)")
    prepare.add_argument("--out", type=Path, default=Path("data/processed"), help="output folder (default data/processed)")
    prepare.add_argument("--size", type=_positive_int, default=256, help="side of the square training images (default 256)")
    prepare.add_argument("--fit", choices=FITS, default="crop",
                         help="centre crop (default), letterbox pad, or several crops per painting")
    prepare.add_argument("--crops", type=_positive_int, default=5, help="crops per painting with --fit crops (1-5, default 5)")
    prepare.add_argument("--min-size", type=_positive_int, default=64, help="reject originals whose shorter side is smaller (default 64)")
    prepare.add_argument("--min-images", type=_positive_int, default=10, help="drop artists with fewer usable paintings (default 10)")
    prepare.add_argument("--split", default="0.8,0.1,0.1", help="train,val,test fractions (default 0.8,0.1,0.1)")
    prepare.add_argument("--near-duplicate-bits", type=int, default=6,
                         help="perceptual hashes this close (of 64 bits) are the same painting (default 6)")
    prepare.add_argument("--keep-near-duplicates", action="store_true", help="keep near copies (in the same split) instead of rejecting them")
    prepare.add_argument("--overwrite", action="store_true", help="replace a folder prepared at another --size (runs trained on it will refuse it)")
    prepare.add_argument("--workers", type=int, default=0, help="decoding processes (default: one per core)")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train the multi-encoder VAE on prepared data",
        description="Train one encoder per artist and a shared decoder, alternating between artists.",
    )
    train.add_argument("--config", type=Path, help="TOML config file (default: built-in defaults = configs/default.toml)")
    train.add_argument("--data", type=Path, help="prepared data directory (default: data.path, data/processed)")
    train.add_argument("--name", help="run name under runs/ (default: a timestamp; with --resume: the latest run)")
    train.add_argument("--ratio", help="steps per artist in turn, e.g. 2:5; 'auto' (by data size), 'sqrt' (by its square root) or 'equal'")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, help="passes over all training images")
    length.add_argument("--steps", type=int, help="total optimisation steps (overrides --epochs)")
    train.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    train.add_argument("--resume", action="store_true", help="continue the run exactly where it stopped")
    train.add_argument("--others", metavar="DIR", help=OTHERS_HELP)
    train.add_argument("--set", dest="assignments", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override any config key, e.g. --set model.latent_dim=64 (repeatable)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", help="run directory or name under runs/ (default: the most recent run)")
    parser.add_argument("--runs-dir", type=Path,
                        help="where runs are (default: $PAINTERLY_VAE_RUNS, then runs/ of the current folder)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    parser.add_argument("--weights", action="append", default=[], metavar="NETWORK=FILE",
                        help="where a pretrained network the run reads through now is, e.g. mobilenet_v2=FILE "
                             "(it must be the file the run was trained with; repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _add_cluster(commands: argparse._SubParsersAction) -> None:
    cluster = commands.add_parser(
        "cluster",
        help="fit a run's artist clusters again (train does it at the end)",
        description="Fit the artist clusters on the training split and calibrate them on the validation split.",
    )
    _add_run_options(cluster)
    cluster.add_argument("--representation", choices=(*REPRESENTATIONS, CHOSEN_REPRESENTATION),
                         help="how paintings are scored; auto: chosen on the validation paintings (of those within "
                              "one standard error of the best, the one that reads the most) "
                              "(default: the run's clustering.representation)")
    cluster.add_argument("--accept-share", type=float,
                         help="share of validation paintings the unknown-artist threshold lets through, in (0, 1] "
                              "(default: the run's clustering.accept_share)")
    cluster.add_argument("--unknown-threshold", choices=UNKNOWN_THRESHOLDS,
                         help="one 'unknown artist' threshold for all painters (overall) or one per painter, at most "
                              "1 - accept-share of any painter's own paintings rejected (default: the run's "
                              "clustering.unknown_threshold)")
    cluster.add_argument("--others", metavar="DIR",
                         help=OTHERS_HELP + " (default: the run's clustering.others; '' for none)")
    cluster.add_argument("--data", type=Path, help="a folder of artist sub-folders or a prepared directory, with the run's artists (default: the run's data)")


def _add_attribute(commands: argparse._SubParsersAction) -> None:
    attribute = commands.add_parser(
        "attribute",
        help="who painted these pictures? ranked artists with probabilities",
        description="Attribute paintings (files or folders) with a trained run.",
    )
    attribute.add_argument("paths", nargs="+", type=Path, metavar="PAINTING", help="image files or folders of them")
    _add_run_options(attribute)
    attribute.add_argument("--top", type=_positive_int, default=3, help="artists to list per painting (default 3)")
    attribute.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    attribute.add_argument("--verbose", action="store_true", help="the numbers behind the words (familiarity, threshold)")


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="measure a run: accuracy, calibration, unknown artists, clusters, reconstructions, plots",
        description="Evaluate a run on its test split or on any folder of artist sub-folders; writes report.json and PNGs.",
    )
    _add_run_options(evaluate)
    evaluate.add_argument("--data", type=Path, help="a folder of artist sub-folders or a prepared directory (default: the run's data)")
    evaluate.add_argument("--split", choices=["train", "val", "test", "all"],
                          help="which paintings (default: the test split of the run's own data; all of any other folder)")
    evaluate.add_argument("--unknown-split", choices=["train", "val", "test", "all"],
                          help="take the paintings of artists the run does not know from this split instead "
                               "(e.g. all: more strangers for the unknown-artist figures)")
    evaluate.add_argument("--baseline", help="another run (e.g. the single-encoder model, the twin) evaluated on the "
                                             "same paintings; with the same decoder size its reconstructions are "
                                             "compared painting by painting")
    evaluate.add_argument(
        "--supervised-baseline", type=_positive_int, nargs="?", const=30, default=0, metavar="EPOCHS",
        help="also train the run's encoder as a supervised artist classifier (EPOCHS, default 30) for comparison",
    )
    evaluate.add_argument(
        "--pretrained-baseline", action="append", default=[], choices=list(NETWORKS), metavar="NETWORK",
        help="also a frozen pretrained network's pooled features + logistic regression (vgg19, mobilenet_v2; "
             "automatic for the networks the run was trained with; repeatable)",
    )


def _add_picture_command(commands: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    """A subcommand that opens a run and writes one PNG (the exploration commands)."""
    parser = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
    _add_run_options(parser)
    parser.add_argument("--out", type=Path, help="PNG to write (default: <run>/explore/<command>-....png)")
    return parser


def _add_reconstruct(commands: argparse._SubParsersAction) -> None:
    parser = _add_picture_command(commands, "reconstruct", "a painting beside its reconstruction through an artist's encoder")
    parser.add_argument("painting", type=Path, help="image file")
    parser.add_argument("--artist", help="whose encoder (default: the artist the run attributes the painting to)")


def _add_cross(commands: argparse._SubParsersAction) -> None:
    parser = _add_picture_command(commands, "cross", "a painting through every artist's encoder and the shared decoder")
    parser.add_argument("painting", type=Path, help="image file")


def _add_interpolate(commands: argparse._SubParsersAction) -> None:
    parser = _add_picture_command(commands, "interpolate", "the decoded path between two paintings' latents (linear and spherical)")
    parser.add_argument("first", type=Path, help="image file where the path starts")
    parser.add_argument("second", type=Path, help="image file where it ends")
    parser.add_argument("--steps", type=int, default=8, help="pictures along the path, both ends included (default 8)")
    parser.add_argument("--first-artist", help="encoder for the first painting (default: its attributed artist)")
    parser.add_argument("--second-artist", help="encoder for the second painting (default: its attributed artist)")


def _add_sample(commands: argparse._SubParsersAction) -> None:
    parser = _add_picture_command(commands, "sample", "new images from the prior, or from an artist's latent cluster")
    parser.add_argument("--artist", help="sample from this artist's fitted cluster (default: the prior N(0, I))")
    parser.add_argument("--n", type=_positive_int, default=16,
                        help="how many images (default 16; up to 64 on one sheet, more as a folder of PNG files)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same images (default 0)")


def _add_map(commands: argparse._SubParsersAction) -> None:
    parser = _add_picture_command(commands, "map", "the run's paintings as thumbnails at their 2-D latent coordinates")
    parser.add_argument("--data", type=Path, help="a folder of artist sub-folders or a prepared directory (default: the run's data)")
    parser.add_argument("--split", choices=["train", "val", "test"], default="train", help="which paintings (default train)")
    parser.add_argument("--projection", choices=["tsne", "pca"], default="tsne", help="t-SNE (default) or PCA")
    parser.add_argument("--per-artist", type=_positive_int, default=40, help="paintings per artist, evenly spread (default 40)")


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="a local page: drop a painting, see who, why and how sure",
        description="Serve a page for a trained run: drop a painting to see the ranked painters with the evidence, "
                    "each painter's encoder's view of it and its place on the map of the collection.",
    )
    _add_run_options(serve)
    serve.add_argument("--data", type=Path, help="the run's prepared paintings, where they moved (default: the run's data)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")


def _port(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got '{text}'")
    return value


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="the whole job on generated paintings (no internet, a few minutes on a CPU)",
        description="Paint synthetic artists, train on them with configs/demo.toml, and summarise.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo"), help="where data and runs go (default: demo/)")
    demo.add_argument("--steps", type=int, help="override the demo's training length")
    demo.add_argument("--device", default="auto", help="auto (default), cpu, cuda or mps")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value
