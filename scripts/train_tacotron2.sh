#!/usr/bin/env bash
# Train Tacotron 2 with the reference recipe's settings: 1501 epochs, Adam at lr 1e-3 annealed at epochs 500, 1000
# and 1500 (by 0.3 with AMP, 0.1 in FP32), weight decay 1e-6, gradient clipping at 1.0, mels read from disk.
#
#   scripts/train_tacotron2.sh                         # one GPU (or the CPU), FP32/TF32
#   AMP=true NUM_GPUS=8 scripts/train_tacotron2.sh     # the 8-GPU mixed-precision recipe
#   scripts/train_tacotron2.sh --epochs 10             # extra arguments go to train.py and win
#
# Needs the mels and mel filelists of scripts/prepare_mels.sh (or scripts/prepare_dataset.sh).
# Environment (defaults): AMP (false), NUM_GPUS (1), BS per GPU (104 with AMP, 48 without), GRAD_ACCUMULATION (1),
# EPOCHS (1501), OUTPUT_DIR (output), DATASET_PATH (data/LJSpeech-1.1), FILELISTS_DIR (filelists), PREFIX (ljs),
# PYTHON (python). The run resumes from OUTPUT_DIR's last Tacotron 2 checkpoint when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/train_common.sh

: "${GRAD_ACCUMULATION:=1}"
: "${EPOCHS:=1501}"

ARGS=(-m Tacotron2 -o "$OUTPUT_DIR" --log-file "$OUTPUT_DIR/nvlog_tacotron2.json"
      --tensorboard "$OUTPUT_DIR/tensorboard/tacotron2" --resume-from-last
      -d "$DATASET_PATH" --load-mel-from-disk
      --training-files "$FILELISTS_DIR/${PREFIX}_mel_text_train_filelist.txt"
      --validation-files "$FILELISTS_DIR/${PREFIX}_mel_text_val_filelist.txt"
      --epochs "$EPOCHS" -lr 1e-3 --weight-decay 1e-6 --grad-clip-thresh 1.0
      --gradient-accumulation-steps "$GRAD_ACCUMULATION" --anneal-steps 500 1000 1500)
if [[ "$AMP" == true ]]; then
    ARGS+=(--amp -bs "${BS:-104}" --anneal-factor 0.3)
else
    ARGS+=(-bs "${BS:-48}" --anneal-factor 0.1)
fi

launch_train "${ARGS[@]}" "$@"
