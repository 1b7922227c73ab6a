#!/usr/bin/env bash
# Precompute Tacotron 2 mels (DATASET_PATH/mels/ID.pt) for the train/val/test filelists and write the mel
# filelists beside them (P_mel_text_<split>_filelist.txt, lines mels/ID.pt|text) for train.py --load-mel-from-disk.
# Resumable: mels already written are kept.
#
#   scripts/prepare_mels.sh                                    # LJSpeech: data/LJSpeech-1.1, filelists/ljs_*
#   DATASET_PATH=data/espeak PREFIX=espeak scripts/prepare_mels.sh
#
# Environment: DATASET_PATH (default data/LJSpeech-1.1; DATA_DIR is read too), FILELISTS_DIR (filelists),
# PREFIX (ljs), WORKERS (2).
# Extra arguments go to prepare_dataset.py as they are (e.g. --skip-bad, audio flags such as --mel-fmax).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
DATASET_PATH=${DATASET_PATH:-${DATA_DIR:-data/LJSpeech-1.1}}
FILELISTS_DIR=${FILELISTS_DIR:-filelists}
PREFIX=${PREFIX:-ljs}
WORKERS=${WORKERS:-2}

FILELISTS=()
for split in train val test; do FILELISTS+=("$FILELISTS_DIR/${PREFIX}_audio_text_${split}_filelist.txt"); done

"$PYTHON" "$REPO/prepare_dataset.py" --dataset-path "$DATASET_PATH" --wav-text-filelist "${FILELISTS[@]}" \
    --extract-mels --workers "$WORKERS" "$@"
