#!/usr/bin/env bash
# The pictures of experiments/record.md's decoder section, from two trained runs on the same painters.
#
#   bash experiments/decoder/make_pictures.sh TODAY_RUN NEW_RUN PREPARED_DATA [OUT_DIR [NEW_LABEL]]
#
# TODAY_RUN: a run with the paper's decoder (e.g. configs/pretrained.toml); NEW_RUN: one with the
# decoder options under test; PREPARED_DATA: the folder both were trained on (its test split is
# shown; its index names each painting's original file). Writes into OUT_DIR (default experiments/decoder):
#   reconstructions.png   two test paintings of each painter: input / today's decoder / the new one
#   cross-today.png, cross-new.png   one painting through every artist's encoder
#   sample-<artist>.png   new paintings from each artist's latent cluster (new run)
#   interpolate.png       the decoded path from a Renoir to a Monet (new run)
set -euo pipefail
today=$1 new=$2 data=$3 out=${4:-experiments/decoder} label=${5:-new decoder}
here=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
mkdir -p "$out"
"$python" "$here/experiments/deep-features/compare_reconstructions.py" "$today" "$new" --data "$data" \
    --out "$out/reconstructions.png" --labels "today's decoder" "$label"
source "$here/experiments/decoder/first_test.sh"
renoir=$(first_test "$data" pierre-auguste-renoir)
monet=$(first_test "$data" claude-monet)
"$python" -m painterly_vae cross "$renoir" --run "$today" --out "$out/cross-today.png" --no-progress
"$python" -m painterly_vae cross "$renoir" --run "$new" --out "$out/cross-new.png" --no-progress
for artist in $("$python" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1] + "/index.json"))["artists"]))' "$data"); do
  "$python" -m painterly_vae sample --run "$new" --artist "$artist" --n 8 --out "$out/sample-$artist.png" --no-progress
done
"$python" -m painterly_vae interpolate "$renoir" "$monet" --run "$new" --out "$out/interpolate.png" --no-progress
echo "pictures in $out"
