#!/usr/bin/env bash
# Writes tests/legacy/: a tiny run, its data and what the code of the day answered with it.
#
# The files checked in were written by commit 54369a3 (before the package was split into
# subpackages); tests/test_legacy_runs.py checks that today's code opens that run, attributes
# and evaluates with it, and reads its report, giving the same numbers. Do not regenerate them
# to make that test pass: regenerate only when the checkpoint or report format changes on
# purpose, and say so in the commit.
#
# Usage (from the repository root, with the package installed): bash tests/legacy/make_legacy_runs.sh
set -euo pipefail
cd "$(dirname "$0")"
B="${PAINTERLY_VAE:-painterly-vae}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf data runs paintings expected
"$B" synth --artists 3 --per-artist 30 --size 48 --seed 3 --out "$work/raw" --no-progress
"$B" prepare "$work/raw" --out data --size 32 --min-size 32 --workers 1 --no-progress
mkdir -p paintings expected
for artist in "$work"/raw/*/; do  # one painting of each painter, as a user's files
  first=$(ls "$artist" | sort | head -n 1)
  cp "$artist/$first" "paintings/$(basename "$artist")-$first"
done
tiny=(--set model.image_size=32 --set model.channels=[8,16] --set model.latent_dim=8 --set training.batch_size=4
      --set training.checkpoint_every=4 --set training.eval_every=4 --set training.image_every=4 --set training.log_every=2)
for representation in own concat elbo; do
  "$B" train --data data --name "$representation" --steps 8 --ratio equal --device cpu --no-progress "${tiny[@]}" \
      --set training.runs_dir=runs --set clustering.representation="$representation" > /dev/null
  rm -rf "runs/$representation/tensorboard" "runs/$representation/train.log" "runs/$representation/plots" "runs/$representation/checkpoints/best.pt"
  "$B" attribute paintings/* --run "runs/$representation" --device cpu --json > "expected/attribute-$representation.json"
done
"$B" evaluate --run runs/concat --device cpu --no-progress > expected/evaluate-concat.txt
mv runs/concat/report.json expected/report-concat.json
rm -rf runs/concat/plots
du -sh data runs paintings expected
