#!/usr/bin/env bash
# Synthesize a phrase file with FastPitch (or Tacotron 2) and WaveGlow (or HiFi-GAN), one WAV per line.
#
#   scripts/inference_example.sh                       # FastPitch + WaveGlow from output/, phrases/devset10.tsv
#   TACOTRON2=output/checkpoint_Tacotron2_last.pt PHRASES=phrases/phrase.txt scripts/inference_example.sh
#   WAVEGLOW= scripts/inference_example.sh             # no vocoder checkpoint: Griffin-Lim
#   HIFIGAN=output/checkpoint_HiFiGAN_last.pt scripts/inference_example.sh --p-arpabet 1.0   # FastPitch 1.1 recipe
#
# Environment: FASTPITCH or TACOTRON2 (mel generator; TACOTRON2 wins when set), HIFIGAN (wins over WAVEGLOW when
# set) or WAVEGLOW, PHRASES, OUTPUT_DIR,
# BATCH_SIZE, AMP (true/false), TORCHSCRIPT (true/false). Extra arguments go to inference.py as they are
# (e.g. --pace 1.2 --pitch-transform-shift 30 --cpu).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${FASTPITCH:=output/checkpoint_FastPitch_last.pt}"
: "${WAVEGLOW=output/checkpoint_WaveGlow_last.pt}"   # set but empty: Griffin-Lim
: "${PHRASES:=phrases/devset10.tsv}"
: "${OUTPUT_DIR:=output/audio_$(basename "${PHRASES%.*}")}"
: "${BATCH_SIZE:=8}"
: "${AMP:=false}"
: "${TORCHSCRIPT:=false}"

if [[ -n "${TACOTRON2:-}" ]]; then
    args=(--tacotron2 "$TACOTRON2")
else
    args=(--fastpitch "$FASTPITCH")
fi
args+=(-i "$PHRASES" -o "$OUTPUT_DIR" --batch-size "$BATCH_SIZE" --save-mels)
if [[ -n "${HIFIGAN:-}" ]]; then
    args+=(--hifigan "$HIFIGAN")
elif [[ -n "$WAVEGLOW" ]]; then
    args+=(--waveglow "$WAVEGLOW")
fi
[[ "$AMP" == true ]] && args+=(--amp)
[[ "$TORCHSCRIPT" == true ]] && args+=(--torchscript)

python inference.py "${args[@]}" "$@"
