#!/usr/bin/env bash
# Train HiFi-GAN with NVIDIA's LJSpeech 22 kHz recipe: 6500 epochs, a global batch of 128 (16 per GPU x 8 GPUs),
# AdamW at lr 3e-4 with betas 0.8 0.99, the learning rate times 0.9998 after every epoch, random 8192-sample
# segments (hifigan/arg_parser.py has all of these as defaults but the learning rate and the batch), validation and
# a checkpoint every 10 epochs.
#
#   scripts/train_hifigan.sh                              # one GPU: 16 x 8 accumulation steps
#   AMP=true NUM_GPUS=8 scripts/train_hifigan.sh          # the 8-GPU mixed-precision recipe: 16 x 1 x 8
#   scripts/train_hifigan.sh --epochs 10                  # extra arguments go to train.py and win
#
# FINETUNE=true fine-tunes on the teacher-forced mels of a trained FastPitch, which it will hear at synthesis
# (--fine-tuning): write them first with scripts/prepare_hifigan_finetuning.sh, then
#   FINETUNE=true HIFIGAN_CHECKPOINT=output/checkpoint_HiFiGAN_last.pt scripts/train_hifigan.sh
# warm-starts from that generator checkpoint (ours, or NVIDIA's hifigan_gen_checkpoint_*.pt; with its
# discriminators when the file has them) and trains EPOCHS more epochs (default 3500: NVIDIA continues its 6500
# to 10000) on P_audio_fastpitch_mel_text_{train,val}, into OUTPUT_DIR/hifigan_finetuning.
#
# Needs the audio filelists of scripts/prepare_dataset.sh. Environment (defaults): AMP (false), NUM_GPUS (1), BS per
# GPU (16), GRAD_ACCUMULATION (128 / (BS x NUM_GPUS)), EPOCHS (6500; 3500 with FINETUNE), LR (3e-4), FINETUNE
# (false), HIFIGAN_CHECKPOINT (for FINETUNE), OUTPUT_DIR (output), DATASET_PATH (data/LJSpeech-1.1), FILELISTS_DIR
# (filelists), PREFIX (ljs), PYTHON (python). The run resumes from its output folder's last HiFi-GAN checkpoint when
# there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/train_common.sh

: "${BS:=16}"
: "${GRAD_ACCUMULATION:=$(( 128 / (BS * NUM_GPUS) > 0 ? 128 / (BS * NUM_GPUS) : 1 ))}"
: "${LR:=3e-4}"
: "${FINETUNE:=false}"
: "${HIFIGAN_CHECKPOINT:=}"

die() { echo "train_hifigan.sh: $*" >&2; exit 1; }

GLOBAL_BATCH=$(( BS * GRAD_ACCUMULATION * NUM_GPUS ))
if (( GLOBAL_BATCH != 128 )); then
    echo "train_hifigan.sh: warning: global batch ${BS} x ${GRAD_ACCUMULATION} x ${NUM_GPUS} = ${GLOBAL_BATCH}," \
         "not the recipe's 128" >&2
fi

if [[ "$FINETUNE" == true ]]; then
    [[ -n "$HIFIGAN_CHECKPOINT" ]] || die "FINETUNE=true needs HIFIGAN_CHECKPOINT (the generator to start from)"
    : "${EPOCHS:=3500}"
    RUN_DIR="$OUTPUT_DIR/hifigan_finetuning"  # its own folder: resuming must not pick up the base run's checkpoints
    TRAIN_LIST="$FILELISTS_DIR/${PREFIX}_audio_fastpitch_mel_text_train_filelist.txt"
    VAL_LIST="$FILELISTS_DIR/${PREFIX}_audio_fastpitch_mel_text_val_filelist.txt"
    [[ -f "$TRAIN_LIST" ]] || die "$TRAIN_LIST not found: run scripts/prepare_hifigan_finetuning.sh first"
    DATA_ARGS=(--fine-tuning --checkpoint-path "$HIFIGAN_CHECKPOINT")
else
    : "${EPOCHS:=6500}"
    RUN_DIR="$OUTPUT_DIR"
    TRAIN_LIST="$FILELISTS_DIR/${PREFIX}_audio_text_train_filelist.txt"
    VAL_LIST="$FILELISTS_DIR/${PREFIX}_audio_text_val_filelist.txt"
    DATA_ARGS=()
fi

ARGS=(-m HiFiGAN -o "$RUN_DIR" --log-file "$RUN_DIR/nvlog_hifigan.json"
      --tensorboard "$RUN_DIR/tensorboard/hifigan" --resume-from-last
      -d "$DATASET_PATH" --training-files "$TRAIN_LIST" --validation-files "$VAL_LIST"
      ${DATA_ARGS[@]+"${DATA_ARGS[@]}"}
      --epochs "$EPOCHS" --epochs-per-checkpoint 10 --validation-interval 10 -lr "$LR"
      -bs "$BS" --gradient-accumulation-steps "$GRAD_ACCUMULATION" --cudnn-benchmark)
if [[ "$AMP" == true ]]; then ARGS+=(--amp); fi

launch_train "${ARGS[@]}" "$@"
