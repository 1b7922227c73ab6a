#!/usr/bin/env bash
# Train WaveGlow with the reference recipe's settings: 1001 epochs, Adam at lr 1e-4, no weight decay, random
# 8000-sample segments, gradient clipping at 65504 with AMP (3.4e38, i.e. none, in FP32), cuDNN autotuning (the
# segments have one shape).
#
#   scripts/train_waveglow.sh                          # one GPU (or the CPU), FP32/TF32
#   AMP=true NUM_GPUS=8 scripts/train_waveglow.sh      # the 8-GPU mixed-precision recipe
#   scripts/train_waveglow.sh --wn-channels 256        # extra arguments go to train.py and win
#
# Environment (defaults): AMP (false), NUM_GPUS (1), BS per GPU (10 with AMP, 4 without), GRAD_ACCUMULATION (1),
# EPOCHS (1001), OUTPUT_DIR (output), DATASET_PATH (data/LJSpeech-1.1), FILELISTS_DIR (filelists), PREFIX (ljs),
# PYTHON (python). The run resumes from OUTPUT_DIR's last WaveGlow checkpoint when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/train_common.sh

: "${GRAD_ACCUMULATION:=1}"
: "${EPOCHS:=1001}"

ARGS=(-m WaveGlow -o "$OUTPUT_DIR" --log-file "$OUTPUT_DIR/nvlog_waveglow.json"
      --tensorboard "$OUTPUT_DIR/tensorboard/waveglow" --resume-from-last
      -d "$DATASET_PATH"
      --training-files "$FILELISTS_DIR/${PREFIX}_audio_text_train_filelist.txt"
      --validation-files "$FILELISTS_DIR/${PREFIX}_audio_text_val_filelist.txt"
      --epochs "$EPOCHS" -lr 1e-4 --weight-decay 0 --segment-length 8000 --cudnn-benchmark
      --gradient-accumulation-steps "$GRAD_ACCUMULATION")
if [[ "$AMP" == true ]]; then
    ARGS+=(--amp -bs "${BS:-10}" --grad-clip-thresh 65504.0)
else
    ARGS+=(-bs "${BS:-4}" --grad-clip-thresh 3.4028234663852886e+38)
fi

launch_train "${ARGS[@]}" "$@"
