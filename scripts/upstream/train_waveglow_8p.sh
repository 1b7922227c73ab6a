#!/usr/bin/env bash
# The Ascend WaveGlow port's 8-device training (its full run: 313 epochs of batch 24 per device), one process per
# visible GPU through distributed.py (NVIDIA/waveglow's launcher name, on torch's launcher):
#   bash scripts/upstream/train_waveglow_8p.sh --data_path=DIR [--output_directory=DIR] [ARGS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="${OUTPUT_DIRECTORY:-checkpoints}"
mkdir -p "$OUT"
training_list "$OUT/train_files.txt"
python "$REPO/distributed.py" -c "$(config_file "$OUT")" -s "$OUT" -a "--output_directory=$OUT \
--training_files=$OUT/train_files.txt $(fixed_settings) --epochs=${EPOCHS:-313} ${EXTRA[*]}"
