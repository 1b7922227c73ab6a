#!/usr/bin/env bash
# Train FastPitch 1.1 (it learns its alignment: no teacher model, no durations) with the reference recipe's
# settings: 1000 epochs, LAMB at lr 0.1 with 1000 warm-up steps and inverse square-root decay, gradient clipping at
# 1000, duration and pitch losses scaled by 0.1, weight decay 1e-6, energy conditioning, the binarization loss
# ramped in over the first 100 epochs, english_cleaners_v2 text with every dictionary word as ARPAbet, and a global
# batch of 256 (the reference: 16 per GPU x 2 accumulation x 8 GPUs).
#
#   scripts/train_fastpitch11.sh                          # one GPU: 16 x 16 accumulation steps
#   AMP=true NUM_GPUS=8 scripts/train_fastpitch11.sh      # the 8-GPU mixed-precision recipe: 16 x 2 x 8
#   SAMPLING_RATE=44100 scripts/train_fastpitch11.sh      # 44.1 kHz audio: filter and window 2048, hop 512
#   scripts/train_fastpitch11.sh --epochs 10              # extra arguments go to train.py and win
#
# Needs the mels, per-frame pitch and filelists of scripts/prepare_dataset.sh (made with the same audio settings:
# for 44.1 kHz pass the flags below to it after `--`).
# Environment (defaults): AMP (false), NUM_GPUS (1), BS per GPU (16), GRAD_ACCUMULATION (256 / (BS x NUM_GPUS)),
# EPOCHS (1000), SAMPLING_RATE (22050 or 44100), PHONE (true: --p-arpabet 1.0), OUTPUT_DIR (output),
# DATASET_PATH (data/LJSpeech-1.1), FILELISTS_DIR (filelists), PREFIX (ljs), PYTHON (python). The run resumes
# from OUTPUT_DIR's last FastPitch checkpoint when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/train_common.sh

: "${BS:=16}"
: "${GRAD_ACCUMULATION:=$(( 256 / (BS * NUM_GPUS) > 0 ? 256 / (BS * NUM_GPUS) : 1 ))}"
: "${EPOCHS:=1000}"
: "${SAMPLING_RATE:=22050}"
: "${PHONE:=true}"

GLOBAL_BATCH=$(( BS * GRAD_ACCUMULATION * NUM_GPUS ))
if (( GLOBAL_BATCH != 256 )); then
    echo "train_fastpitch11.sh: warning: global batch ${BS} x ${GRAD_ACCUMULATION} x ${NUM_GPUS} = ${GLOBAL_BATCH}, not the recipe's 256" >&2
fi

ARGS=(-m FastPitch --fastpitch-version 1.1 -o "$OUTPUT_DIR" --log-file "$OUTPUT_DIR/nvlog_fastpitch11.json"
      --tensorboard "$OUTPUT_DIR/tensorboard/fastpitch11" --resume-from-last
      -d "$DATASET_PATH"
      --training-files "$FILELISTS_DIR/${PREFIX}_mel_pitch_text_train_filelist.txt"
      --validation-files "$FILELISTS_DIR/${PREFIX}_mel_pitch_text_val_filelist.txt"
      --pitch-mean-std-file "$DATASET_PATH/pitch_stats__${PREFIX}_audio_text_train_filelist.json"
      --epochs "$EPOCHS" --epochs-per-checkpoint 20 -lr 0.1 --optimizer lamb --warmup-steps 1000
      --grad-clip-thresh 1000.0 --weight-decay 1e-6 --dur-predictor-loss-scale 0.1 --pitch-predictor-loss-scale 0.1
      --energy-conditioning --kl-loss-start-epoch 0 --kl-loss-warmup-epochs 100
      --text-cleaners english_cleaners_v2
      -bs "$BS" --gradient-accumulation-steps "$GRAD_ACCUMULATION")
if [[ "$PHONE" == true ]]; then ARGS+=(--p-arpabet 1.0); fi
case "$SAMPLING_RATE" in
    22050) ;;
    44100) ARGS+=(--sampling-rate 44100 --filter-length 2048 --hop-length 512 --win-length 2048
                  --mel-fmin 0.0 --mel-fmax 22050.0) ;;
    *) echo "train_fastpitch11.sh: SAMPLING_RATE must be 22050 or 44100, got $SAMPLING_RATE" >&2; exit 1 ;;
esac
if [[ "$AMP" == true ]]; then ARGS+=(--amp); fi

launch_train "${ARGS[@]}" "$@"
