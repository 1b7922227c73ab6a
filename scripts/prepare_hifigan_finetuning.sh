#!/usr/bin/env bash
# Write a trained FastPitch's teacher-forced mels for HiFi-GAN fine-tuning (scripts/train_hifigan.sh, FINETUNE=true):
# prepare_dataset.py --teacher-mels-from fastpitch over the train/val/test filelists writes
# DATASET_PATH/mels_fastpitch/ID.pt (the frames of mels/ID.pt, so they line up with the audio) and beside each
# filelist P_audio_fastpitch_mel_text_<split>_filelist.txt (lines wavs/ID.wav|mels_fastpitch/ID.pt|text).
# Resumable: mels already written are kept.
#
#   scripts/prepare_hifigan_finetuning.sh --fastpitch-checkpoint output/checkpoint_FastPitch_last.pt
#   FASTPITCH_CHECKPOINT=fp.pt DATASET_PATH=data/espeak PREFIX=espeak scripts/prepare_hifigan_finetuning.sh
#
# Needs the data the checkpoint trained on, from scripts/prepare_dataset.sh with the same audio settings
# (FastPitch 1.0: P_mel_dur_pitch_text_*, 1.1: P_mel_pitch_text_*).
# Flags (each has an environment variable; flags win):
#   --fastpitch-checkpoint C  FASTPITCH_CHECKPOINT  the trained FastPitch, 1.0 or 1.1 (required)
#   --batch-size N            BATCH_SIZE            clips per batch (default 16; 1: each clip without padding)
# Environment: DATASET_PATH (data/LJSpeech-1.1; DATA_DIR is read too), FILELISTS_DIR (filelists), PREFIX (ljs),
# PYTHON (python). Anything after `--` goes to prepare_dataset.py as it is (e.g. -- --skip-bad, audio flags).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
DATASET_PATH=${DATASET_PATH:-${DATA_DIR:-data/LJSpeech-1.1}}
FILELISTS_DIR=${FILELISTS_DIR:-filelists}
PREFIX=${PREFIX:-ljs}
FASTPITCH_CHECKPOINT=${FASTPITCH_CHECKPOINT:-}
BATCH_SIZE=${BATCH_SIZE:-16}
EXTRA_ARGS=()

die() { echo "prepare_hifigan_finetuning.sh: $*" >&2; exit 1; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --fastpitch-checkpoint) need_value "$@"; FASTPITCH_CHECKPOINT=$2; shift 2 ;;
        --batch-size) need_value "$@"; BATCH_SIZE=$2; shift 2 ;;
        --) shift; EXTRA_ARGS=("$@"); break ;;
        *) die "unknown flag $1 (see the comments at the top of $0)" ;;
    esac
done
[[ -n "$FASTPITCH_CHECKPOINT" ]] || die "needs a trained FastPitch: --fastpitch-checkpoint C (or FASTPITCH_CHECKPOINT)"

FILELISTS=()
for split in train val test; do FILELISTS+=("$FILELISTS_DIR/${PREFIX}_audio_text_${split}_filelist.txt"); done

"$PYTHON" "$REPO/prepare_dataset.py" --dataset-path "$DATASET_PATH" --wav-text-filelist "${FILELISTS[@]}" \
    --teacher-mels-from fastpitch --fastpitch-checkpoint "$FASTPITCH_CHECKPOINT" --batch-size "$BATCH_SIZE" \
    ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}
