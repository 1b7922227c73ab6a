#!/usr/bin/env bash
# shellcheck disable=SC2034  # the variables set here are read by the scripts that source this file
# What the Ascend WaveGlow port's scripts share (sourced by the scripts beside it): their flags, --data_path,
# --output_directory, --pth_path, --device_id and --workers (read, unused, as there); every other argument goes on to
# train.py or inference.py and wins over the fixed settings. REPO is this repository's root.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA_PATH="" OUTPUT_DIRECTORY="" PTH_PATH="" DEVICE_ID="" EXTRA=()
for arg in "$@"; do
  case "$arg" in
    --data_path=*) DATA_PATH="${arg#*=}" ;;
    --output_directory=*) OUTPUT_DIRECTORY="${arg#*=}" ;;
    --pth_path=*) PTH_PATH="${arg#*=}" ;;
    --device_id=*) DEVICE_ID="${arg#*=}" ;;
    --workers=*) ;;
    *) EXTRA+=("$arg") ;;
  esac
done
[ -n "$DATA_PATH" ] || { echo "$(basename "$0"): error: --data_path=DIR (with wavs/*.wav) is required" >&2; exit 2; }
[ -d "$DATA_PATH/wavs" ] || { echo "$(basename "$0"): error: --data_path $DATA_PATH: no wavs/ folder" >&2; exit 2; }
[ -z "$DEVICE_ID" ] || export CUDA_VISIBLE_DEVICES="$DEVICE_ID"

# the port's list: the corpus's WAVs, sorted, less the first 9 (the first 10 are the evaluation's)
training_list() {
  find "$(cd "$DATA_PATH" && pwd)/wavs" -name '*.wav' | sort | tail -n +10 > "$1"
}

# NVIDIA/waveglow's config.json: a key this file leaves out takes that repository's default
# (waveglow/upstream_config.py); CONFIG=FILE gives another one
config_file() {
  if [ -n "${CONFIG:-}" ]; then echo "$CONFIG"; else echo '{}' > "$1/config.json"; echo "$1/config.json"; fi
}

# the port's fixed settings; EPOCHS is the script's
fixed_settings() {
  echo --fp16_run=true --learning_rate=2e-4 --sigma=1.0 --iters_per_checkpoint=1000 --batch_size=24 --seed=1234
}
