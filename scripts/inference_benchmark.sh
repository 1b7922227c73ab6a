#!/usr/bin/env bash
# Latency of text-to-speech inference at batch sizes 1, 4 and 8 in mixed and full precision on 128-character
# sentences. Each case leaves its JSON-lines log (per-run numbers and the summary) and its printed table in
# RESULTS_DIR, and all cases end up side by side in RESULTS_DIR/latency_table.md.
#
#   FASTPITCH=... WAVEGLOW=... scripts/inference_benchmark.sh
#   FASTPITCH=... HIFIGAN=... scripts/inference_benchmark.sh
#
# Environment (defaults in brackets): FASTPITCH [output/checkpoint_FastPitch_last.pt] or TACOTRON2 (wins when
# set), HIFIGAN (the vocoder when set) or WAVEGLOW [output/checkpoint_WaveGlow_last.pt; set but empty:
# Griffin-Lim], PHRASES
# [phrases/benchmark_8_128.tsv], BS_SEQUENCE ["1 4 8"], PRECISIONS ["fp16 fp32"; fp16 means --amp, which is
# bfloat16 on the CPU; int8 quantizes every model given, CPU only], REPEATS [100 passes over the phrases], DEVICE
# [cuda where torch sees a GPU, else cpu], TORCHSCRIPT [false], RESULTS_DIR [output/latency]. Extra arguments go
# to inference.py as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${FASTPITCH:=output/checkpoint_FastPitch_last.pt}"
: "${WAVEGLOW=output/checkpoint_WaveGlow_last.pt}"
: "${PHRASES:=phrases/benchmark_8_128.tsv}"
: "${BS_SEQUENCE:=1 4 8}"
: "${PRECISIONS:=fp16 fp32}"
: "${REPEATS:=100}"
: "${TORCHSCRIPT:=false}"
: "${RESULTS_DIR:=output/latency}"
if [[ -z "${DEVICE:-}" ]]; then
    DEVICE=$(python -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
fi

if [[ -n "${TACOTRON2:-}" ]]; then
    generator=(--tacotron2 "$TACOTRON2"); name=tacotron2
else
    generator=(--fastpitch "$FASTPITCH"); name=fastpitch
fi
int8_models=("$name")
if [[ -n "${HIFIGAN:-}" ]]; then
    vocoder=(--hifigan "$HIFIGAN"); name+=_hifigan; int8_models+=(hifigan)
elif [[ -n "$WAVEGLOW" ]]; then
    vocoder=(--waveglow "$WAVEGLOW"); name+=_waveglow; int8_models+=(waveglow)
else
    vocoder=(); name+=_griffinlim
fi
[[ "$TORCHSCRIPT" == true ]] && generator+=(--torchscript) && name+=_ts

mkdir -p "$RESULTS_DIR"
logs=()
for precision in $PRECISIONS; do
    case "$precision" in
        fp16) precision_flags=(--amp); label=$([[ "$DEVICE" == cpu ]] && echo bf16 || echo fp16) ;;
        fp32) precision_flags=(); label=fp32 ;;
        int8) precision_flags=(--int8 "${int8_models[@]}"); label=int8 ;;
        *) echo "inference_benchmark.sh: PRECISIONS takes fp16, fp32 and int8, got '$precision'" >&2; exit 1 ;;
    esac
    for bs in $BS_SEQUENCE; do
        case_name="${name}_${DEVICE}_bs${bs}_${label}"
        echo "== $case_name"
        python inference.py -i "$PHRASES" "${generator[@]}" "${vocoder[@]}" "--$DEVICE" "${precision_flags[@]}" \
            --batch-size "$bs" --repeats "$REPEATS" --include-warmup \
            --log-file "$RESULTS_DIR/$case_name.json" "$@" | tee "$RESULTS_DIR/$case_name.txt"
        logs+=("$RESULTS_DIR/$case_name.json")
    done
done
python -m common.latency "${logs[@]}" | tee "$RESULTS_DIR/latency_table.md"
