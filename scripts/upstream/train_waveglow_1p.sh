#!/usr/bin/env bash
# The Ascend WaveGlow port's 1-device training (its performance run: 1 epoch), on train.py's NVIDIA/waveglow command
# line:  bash scripts/upstream/train_waveglow_1p.sh --data_path=DIR [--output_directory=DIR] [--device_id=N] [ARGS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUTPUT_DIRECTORY:-checkpoints}"
mkdir -p "$OUT"
training_list "$OUT/train_files.txt"
# shellcheck disable=SC2046  # the fixed settings are one word each
python "$REPO/train.py" -c "$(config_file "$OUT")" --output_directory="$OUT" --training_files="$OUT/train_files.txt" \
  $(fixed_settings) --epochs="${EPOCHS:-1}" "${EXTRA[@]}"
