#!/usr/bin/env bash
# The GPU runs of experiments/record.md's 256 px section, as one timed script: it prepares the five
# painters at 224 and 256 px, trains configs/pretrained-256.toml and its single-encoder twin, and a
# second seed of configs/pretrained-128.toml with its twin, all four at once on one GPU, then
# evaluates each pair (paired intervals), draws the 256 px pictures and packs what comes back.
#
#   PAINTINGS=<artist folders> WEIGHTS=<mobilenet_v2-imagenet.pth> OUT=<folder> bash experiments/decoder-256/h200.sh
#
# What comes back (at most 8 files): logs.tar (the logs, the timeline, each run's train.log,
# config.toml and report.json), plots-<run>.tar (each run's evaluate plots), pictures.tar; each is
# rewritten after every stage, so a command stopped at its limit still returns what was done.
# Every stage has a deadline (seconds from the start, TRAIN_S, EVAL_S, END_S): a training past
# TRAIN_S is stopped like a Ctrl-C (the step it reached is kept, the clusters are fitted, and
# train.log says how far it got), so the script ends inside one device lease. EXTRA adds
# arguments to every `train` (e.g. "--steps 3" for a dry run on a CPU).
set -u
start=$(date +%s)
python=${PYTHON:-python3}
paintings=${PAINTINGS:?folder of artist sub-folders}
weights=${WEIGHTS:?MobileNetV2 ImageNet weights}
out=${OUT:?folder for what comes back}
data=${DATA:-/tmp/painterly-data}
train_s=${TRAIN_S:-300} eval_s=${EVAL_S:-450} end_s=${END_S:-540}
extra=${EXTRA:-}
export PYTHONUNBUFFERED=1
pv() { "$python" -m painterly_vae "$@"; }
source experiments/decoder/first_test.sh  # first_test PREPARED_DATA ARTIST
left() { echo $(( start + $1 - $(date +%s) )); }
stamp() { echo "[$(( $(date +%s) - start )) s] $*" | tee -a "$stage/timeline.txt"; }
net="--set networks.mobilenet_v2.weights=$weights --set networks.mobilenet_v2.input_scaling=signed --set networks.mobilenet_v2.padding=same"
stage=${STAGE:-/tmp/painterly-results}
mkdir -p "$stage/logs" "$data"
runs="gpu256 twingpu256 s1-128 twins1-128"
pack() {
  local files=("$stage")
  for run in $runs; do for f in train.log config.toml report.json; do
    [ -f "runs/$run/$f" ] && files+=("runs/$run/$f")
  done; [ -d "runs/$run/plots" ] && tar -cf "$out/plots-$run.tar" "runs/$run/plots"; done
  tar -cf "$out/logs.tar" --exclude=pictures-256 "${files[@]}" 2>/dev/null
  [ -d "$stage/pictures-256" ] && tar -cf "$out/pictures.tar" -C "$stage" pictures-256
  return 0
}

nvidia-smi > "$stage/logs/nvidia-smi.txt" 2>&1
stamp "start on $(hostname): $("$python" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")')"
pv prepare "$paintings" --out "$data/p5-224" --size 224 --no-progress > "$stage/logs/prepare-224.log" 2>&1 &
pv prepare "$paintings" --out "$data/p5-256" --size 256 --no-progress > "$stage/logs/prepare-256.log" 2>&1 &
wait
stamp "prepared"

# name config data extra-sets: four trainings side by side, four CPU threads each
train() {
  local name=$1 config=$2 prepared=$3; shift 3
  OMP_NUM_THREADS=${THREADS:-4} timeout -s INT -k 150 "$(left "$train_s")" \
    "$python" -m painterly_vae train --config "$config" --data "$prepared" --name "$name" $net $extra "$@" \
    --no-progress > "$stage/logs/train-$name.log" 2>&1
  stamp "trained $name (exit $?)"
}
pack
train gpu256 configs/pretrained-256.toml "$data/p5-256" &
train twingpu256 configs/pretrained-256.toml "$data/p5-256" --set model.encoders=single &
train s1-128 configs/pretrained-128.toml "$data/p5-224" --set training.seed=1 &
train twins1-128 configs/pretrained-128.toml "$data/p5-224" --set training.seed=1 --set model.encoders=single &
wait

evaluate() {
  local run=$1 baseline=$2
  OMP_NUM_THREADS=${EVAL_THREADS:-6} timeout -k 20 "$(left "$eval_s")" "$python" -m painterly_vae evaluate --run "$run" \
    --baseline "$baseline" --weights "mobilenet_v2=$weights" --no-progress > "$stage/logs/evaluate-$run.log" 2>&1
  stamp "evaluated $run against $baseline (exit $?)"
}
pack
evaluate gpu256 twingpu256 &
evaluate s1-128 twins1-128 &
pictures() {
  local pics="$stage/pictures-256"; mkdir -p "$pics"
  OMP_NUM_THREADS=${THREADS:-4} timeout -k 10 "$(left "$end_s")" bash -c '
    set -e; py=$1 pics=$2 data=$3 renoir=$4 monet=$5
    "$py" experiments/deep-features/compare_reconstructions.py runs/twingpu256 runs/gpu256 --data "$data" \
      --out "$pics/reconstructions.png" --labels "single encoder (twin)" "per-artist encoders"
    "$py" -m painterly_vae cross "$renoir" --run gpu256 --out "$pics/cross.png" --no-progress
    "$py" -m painterly_vae interpolate "$renoir" "$monet" --run gpu256 --out "$pics/interpolate.png" --no-progress
    for artist in alfred-sisley claude-monet edouard-manet eugene-boudin pierre-auguste-renoir; do
      "$py" -m painterly_vae sample --run gpu256 --artist $artist --n 8 --out "$pics/sample-$artist.png" --no-progress
    done' _ "$python" "$pics" "$data/p5-256" "$(first_test "$data/p5-256" pierre-auguste-renoir)" \
      "$(first_test "$data/p5-256" claude-monet)" > "$stage/logs/pictures.log" 2>&1
  stamp "pictures (exit $?)"
}
pictures &
wait

pack
stamp "packed"
