#!/usr/bin/env bash
# GPU latency of Tacotron 2 + WaveGlow: batch sizes 1, 4 and 8, FP16 and FP32, 128-character sentences
# (phrases/phrase_8_128.txt), tables in RESULTS_DIR (default output/latency). Checkpoints by environment:
#   TACOTRON2=... WAVEGLOW=... scripts/run_latency_tests.sh
# Any variable of scripts/inference_benchmark.sh may be set as well (REPEATS, BS_SEQUENCE, ...).
set -euo pipefail
export TACOTRON2="${TACOTRON2-output/checkpoint_Tacotron2_last.pt}"  # set but empty: FASTPITCH
export PHRASES="${PHRASES:-phrases/phrase_8_128.txt}" DEVICE="${DEVICE:-cuda}" REPEATS="${REPEATS:-100}"
exec bash "$(dirname "$0")/inference_benchmark.sh" "$@"
