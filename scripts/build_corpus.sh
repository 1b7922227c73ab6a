#!/usr/bin/env bash
# Build the embedded eSpeak NG corpus (LJSpeech layout: wavs/, metadata.csv, plus timings/). It writes no
# filelists: scripts/prepare_dataset.sh splits metadata.csv as it does LJSpeech's (common/splits.py).
# Usage: scripts/build_corpus.sh [DIR=data/espeak] [NUM_CLIPS=300] [extra flags for common.corpus.build ...]
set -euo pipefail
cd "$(dirname "$0")/.."

DATASET_DIR="${1:-data/espeak}"
NUM_CLIPS="${2:-300}"
shift $(( $# < 2 ? $# : 2 ))

"${PYTHON:-python}" -m common.corpus.build --output "$DATASET_DIR" --num-clips "$NUM_CLIPS" "$@"
