#!/usr/bin/env bash
# Prepare a corpus for all three models: fetch LJSpeech-1.1 unless present, split its metadata.csv into
# train/val/test filelists with scripts/split_metadata.py (common/splits.py: 12,500/100/500 for LJSpeech, the same
# proportions with floors for other sizes; or reuse existing ones), then write with prepare_dataset.py mels,
# per-frame pitch (FastPitch 1.1) and, where a durations source exists, per-symbol durations and pitch
# (FastPitch 1.0), plus the Tacotron 2 mel filelists and the FastPitch filelists next to the split.
#
#   scripts/prepare_dataset.sh                                     # LJSpeech into data/LJSpeech-1.1
#   DATASET_PATH=data/espeak scripts/prepare_dataset.sh --skip-download   # the embedded corpus (build it first:
#       bash scripts/build_corpus.sh data/espeak 300)
#
# Flags (each has an environment variable; flags win):
#   --dataset-path D        DATASET_PATH   corpus folder (default data/LJSpeech-1.1; DATA_DIR is read too)
#   --skip-download         SKIP_DOWNLOAD=1  never download; the corpus must already be there
#   --filelists-dir DIR     FILELISTS_DIR  where the filelists are written (default filelists)
#   --prefix P              PREFIX         filelist names P_audio_text_{train,val,test}_filelist.txt; default
#                                          espeak when D/timings exists (the embedded corpus), else ljs
#   --split-from DIR        SPLIT_FROM     reuse DIR/P_audio_text_*_filelist.txt instead of splitting metadata.csv
#   --durations-from S      DURATIONS_FROM espeak (needs D/timings, as the embedded corpus has), tacotron2 or
#                                          none (FastPitch 1.1 data only); default espeak when D/timings
#                                          exists, else tacotron2 when a checkpoint is given, else none
#   --tacotron2-checkpoint C TACOTRON2_CHECKPOINT  trained Tacotron 2 for --durations-from tacotron2
#   --workers N             WORKERS        preprocessing processes (default 2)
# Anything after `--` goes to prepare_dataset.py as it is (e.g. -- --skip-bad --max-duration 12).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
LJSPEECH_URL=https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2

DATASET_PATH=${DATASET_PATH:-${DATA_DIR:-data/LJSpeech-1.1}}
SKIP_DOWNLOAD=${SKIP_DOWNLOAD:-0}
FILELISTS_DIR=${FILELISTS_DIR:-filelists}
PREFIX=${PREFIX:-}
SPLIT_FROM=${SPLIT_FROM:-}
DURATIONS_FROM=${DURATIONS_FROM:-}
TACOTRON2_CHECKPOINT=${TACOTRON2_CHECKPOINT:-}
WORKERS=${WORKERS:-2}
EXTRA_ARGS=()

die() { echo "prepare_dataset.sh: $*" >&2; exit 1; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --dataset-path) need_value "$@"; DATASET_PATH=$2; shift 2 ;;
        --skip-download) SKIP_DOWNLOAD=1; shift ;;
        --filelists-dir) need_value "$@"; FILELISTS_DIR=$2; shift 2 ;;
        --prefix) need_value "$@"; PREFIX=$2; shift 2 ;;
        --split-from) need_value "$@"; SPLIT_FROM=$2; shift 2 ;;
        --durations-from) need_value "$@"; DURATIONS_FROM=$2; shift 2 ;;
        --tacotron2-checkpoint) need_value "$@"; TACOTRON2_CHECKPOINT=$2; shift 2 ;;
        --workers) need_value "$@"; WORKERS=$2; shift 2 ;;
        --) shift; EXTRA_ARGS=("$@"); break ;;
        *) die "unknown flag $1 (see the comments at the top of $0)" ;;
    esac
done

download_ljspeech() {
    local parent archive staging
    parent=$(dirname "$DATASET_PATH")
    archive="$parent/LJSpeech-1.1.tar.bz2"
    mkdir -p "$parent"
    if [[ ! -f "$archive" ]]; then
        echo "Downloading $LJSPEECH_URL (2.6 GB) to $archive"
        curl -fL --retry 3 -o "$archive.part" "$LJSPEECH_URL"
        mv "$archive.part" "$archive"
    fi
    echo "Unpacking $archive"
    staging=$(mktemp -d "$parent/.unpack.XXXXXX")
    tar -xjf "$archive" -C "$staging"  # the archive holds one folder, LJSpeech-1.1/
    if [[ -d "$DATASET_PATH" ]]; then
        rmdir "$DATASET_PATH" 2>/dev/null || die "$DATASET_PATH exists without metadata.csv; empty or remove it"
    fi
    mv "$staging/LJSpeech-1.1" "$DATASET_PATH"
    rmdir "$staging"
}

if [[ ! -f "$DATASET_PATH/metadata.csv" ]]; then
    [[ "$SKIP_DOWNLOAD" == 1 ]] && die "$DATASET_PATH/metadata.csv not found and --skip-download given"
    download_ljspeech
fi

HAS_TIMINGS=0
[[ -d "$DATASET_PATH/timings" ]] && HAS_TIMINGS=1
if [[ -z "$PREFIX" ]]; then
    if [[ "$HAS_TIMINGS" == 1 ]]; then PREFIX=espeak; else PREFIX=ljs; fi
fi

if [[ -z "$DURATIONS_FROM" ]]; then
    if [[ "$HAS_TIMINGS" == 1 ]]; then DURATIONS_FROM=espeak
    elif [[ -n "$TACOTRON2_CHECKPOINT" ]]; then DURATIONS_FROM=tacotron2
    else DURATIONS_FROM=none; fi
fi
OUTPUT_ARGS=(--extract-mels --extract-frame-pitch)
if [[ "$DURATIONS_FROM" == none ]]; then
    echo "prepare_dataset.sh: no durations source: FastPitch 1.1 and Tacotron 2 data only (FastPitch 1.0 needs" \
         "--tacotron2-checkpoint, or eSpeak timings in $DATASET_PATH/timings)"
else
    OUTPUT_ARGS+=(--extract-durations --extract-pitch --durations-from "$DURATIONS_FROM")
fi
if [[ "$DURATIONS_FROM" == tacotron2 ]]; then
    [[ -n "$TACOTRON2_CHECKPOINT" ]] || die "durations from Tacotron 2 attention need --tacotron2-checkpoint \
(train one with --load-mel-from-disk on the mel filelists first: scripts/prepare_mels.sh)"
    OUTPUT_ARGS+=(--tacotron2-checkpoint "$TACOTRON2_CHECKPOINT")
fi

SPLITS=(train val test)
mkdir -p "$FILELISTS_DIR"
if [[ -n "$SPLIT_FROM" ]]; then
    for split in "${SPLITS[@]}"; do
        source_list="$SPLIT_FROM/${PREFIX}_audio_text_${split}_filelist.txt"
        [[ -f "$source_list" ]] || die "$source_list not found (--split-from)"
        if [[ "$(cd "$SPLIT_FROM" && pwd)" != "$(cd "$FILELISTS_DIR" && pwd)" ]]; then
            cp "$source_list" "$FILELISTS_DIR/"
        fi
    done
else
    "$PYTHON" "$REPO/scripts/split_metadata.py" --metadata "$DATASET_PATH/metadata.csv" \
        --output-dir "$FILELISTS_DIR" --prefix "$PREFIX"
fi

FILELISTS=()
for split in "${SPLITS[@]}"; do FILELISTS+=("$FILELISTS_DIR/${PREFIX}_audio_text_${split}_filelist.txt"); done

"$PYTHON" "$REPO/prepare_dataset.py" --dataset-path "$DATASET_PATH" --wav-text-filelist "${FILELISTS[@]}" \
    "${OUTPUT_ARGS[@]}" --workers "$WORKERS" \
    ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}
