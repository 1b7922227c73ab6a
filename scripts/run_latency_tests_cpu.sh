#!/usr/bin/env bash
# CPU latency of Tacotron 2 + WaveGlow: batch size 1, FP32, one 128-character sentence (phrases/phrase_1_128.txt),
# a few repeats (the CPU is slow), tables in RESULTS_DIR (default output/latency). Checkpoints by environment:
#   TACOTRON2=... WAVEGLOW=... scripts/run_latency_tests_cpu.sh
#   TACOTRON2= FASTPITCH=... HIFIGAN=... scripts/run_latency_tests_cpu.sh
# Any variable of scripts/inference_benchmark.sh may be set as well (FASTPITCH instead of TACOTRON2 with
# TACOTRON2= left empty, BS_SEQUENCE, PRECISIONS="fp32 int8" for dynamic int8 too, ...).
set -euo pipefail
export TACOTRON2="${TACOTRON2-output/checkpoint_Tacotron2_last.pt}"  # set but empty: FASTPITCH
export PHRASES="${PHRASES:-phrases/phrase_1_128.txt}" DEVICE=cpu REPEATS="${REPEATS:-3}"
export BS_SEQUENCE="${BS_SEQUENCE:-1}" PRECISIONS="${PRECISIONS:-fp32}"
exec bash "$(dirname "$0")/inference_benchmark.sh" "$@"
