#!/usr/bin/env bash
# The Ascend WaveGlow port's evaluation of a checkpoint: the mels of the corpus's first 10 WAVs (mel2samp.py), vocoded
# and timed (inference.py -f mel_files.txt -w CKPT --is_fp16 -s 0.6); then, which the port did not, the numbers that
# judge the checkpoint: evaluate.py's mel L1 and MCD of the vocoded recordings and the validation negative
# log-likelihood on the same 10 clips.
#   bash scripts/upstream/eval_waveglow.sh --data_path=DIR --pth_path=CKPT [--output_directory=DIR] [INFERENCE ARGS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ -n "$PTH_PATH" ] || { echo "eval_waveglow.sh: error: --pth_path=CHECKPOINT is required" >&2; exit 2; }
OUT="${OUTPUT_DIRECTORY:-eval}"
mkdir -p "$OUT/mels"
DATA="$(cd "$DATA_PATH" && pwd)"
find "$DATA/wavs" -name '*.wav' | sort | head -n 10 > "$OUT/wav_files.txt"
python "$REPO/mel2samp.py" -f "$OUT/wav_files.txt" -o "$OUT/mels" -c "$(config_file "$OUT")"
sed "s#^.*/#$OUT/mels/#; s#\$#.pt#" "$OUT/wav_files.txt" > "$OUT/mel_files.txt"
python "$REPO/inference.py" -f "$OUT/mel_files.txt" -w "$PTH_PATH" -o "$OUT" --is_fp16 -s 0.6 "${EXTRA[@]}"
sed 's#$#|(audio only)#' "$OUT/wav_files.txt" > "$OUT/filelist.txt"
python "$REPO/evaluate.py" -m WaveGlow --checkpoint "$PTH_PATH" -d / --filelist "$OUT/filelist.txt" \
  --validation-loss | tee "$OUT/scores.json"
