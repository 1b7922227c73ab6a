#!/usr/bin/env bash
# Train FastPitch 1.0 with the reference recipe's settings: 1500 epochs, LAMB at lr 0.1 with 1000 warm-up steps
# and inverse square-root decay, gradient clipping at 1000, both predictor losses scaled by 0.1, weight decay 1e-6,
# and a global batch of 256 (batch per GPU x gradient accumulation x GPUs).
#
#   scripts/train_fastpitch.sh                         # one GPU: 32 x 8 accumulation steps
#   AMP=true NUM_GPUS=8 scripts/train_fastpitch.sh     # the 8-GPU mixed-precision recipe: 32 x 1 x 8
#   scripts/train_fastpitch.sh --epochs 10             # extra arguments go to train.py and win
#
# Needs the mels, durations, pitch and filelists of scripts/prepare_dataset.sh.
# Environment (defaults): AMP (false), NUM_GPUS (1), BS per GPU (32), GRAD_ACCUMULATION (256 / (BS x NUM_GPUS)),
# EPOCHS (1500), OUTPUT_DIR (output), DATASET_PATH (data/LJSpeech-1.1), FILELISTS_DIR (filelists), PREFIX (ljs),
# PYTHON (python). The run resumes from OUTPUT_DIR's last FastPitch checkpoint when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/train_common.sh

: "${BS:=32}"
: "${GRAD_ACCUMULATION:=$(( 256 / (BS * NUM_GPUS) > 0 ? 256 / (BS * NUM_GPUS) : 1 ))}"
: "${EPOCHS:=1500}"

GLOBAL_BATCH=$(( BS * GRAD_ACCUMULATION * NUM_GPUS ))
if (( GLOBAL_BATCH != 256 )); then
    echo "train_fastpitch.sh: warning: global batch ${BS} x ${GRAD_ACCUMULATION} x ${NUM_GPUS} = ${GLOBAL_BATCH}, not the recipe's 256" >&2
fi

ARGS=(-m FastPitch -o "$OUTPUT_DIR" --log-file "$OUTPUT_DIR/nvlog_fastpitch.json"
      --tensorboard "$OUTPUT_DIR/tensorboard/fastpitch" --resume-from-last
      -d "$DATASET_PATH"
      --training-files "$FILELISTS_DIR/${PREFIX}_mel_dur_pitch_text_train_filelist.txt"
      --validation-files "$FILELISTS_DIR/${PREFIX}_mel_dur_pitch_text_val_filelist.txt"
      --pitch-mean-std-file "$DATASET_PATH/pitch_char_stats__${PREFIX}_audio_text_train_filelist.json"
      --epochs "$EPOCHS" --epochs-per-checkpoint 100 -lr 0.1 --optimizer lamb --warmup-steps 1000
      --grad-clip-thresh 1000.0 --weight-decay 1e-6 --dur-predictor-loss-scale 0.1 --pitch-predictor-loss-scale 0.1
      -bs "$BS" --gradient-accumulation-steps "$GRAD_ACCUMULATION")
if [[ "$AMP" == true ]]; then ARGS+=(--amp); fi

launch_train "${ARGS[@]}" "$@"
