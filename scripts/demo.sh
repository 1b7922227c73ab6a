#!/usr/bin/env bash
# The main job (`make demo`): the reference recipes' Quick Start at demo scale, on the CPU, on the embedded corpus.
# Build the corpus, preprocess it, train a small FastPitch 1.0 (from eSpeak's durations), a small FastPitch 1.1
# (no durations: it learns its alignment) and a small HiFi-GAN for a few minutes each with the recipe scripts,
# score the models before and after training, synthesize phrases/phrase.txt (HiFi-GAN and Griffin-Lim) with the
# latency table, and draw the mels. About 20 minutes on 2 idle cores.
#
# The vocoder is HiFi-GAN because it won the comparison in the demo's budget (README, "The demo"): trained for the
# same three minutes on these clips, a small HiFi-GAN (configs/demo_hifigan.json, one epoch) vocodes the held-out
# test clips with a mel L1 of 1.33 and an MCD of 84 dB, WaveGlow (configs/demo_waveglow.json, three epochs) with
# 3.83 and 136 dB.
#
# Environment (defaults): DEMO_DIR (output/demo), DATASET_PATH (data/espeak), NUM_CLIPS (300),
# FASTPITCH_EPOCHS (10, both versions), HIFIGAN_EPOCHS (1), PYTHON (python3). Reruns resume: the corpus, the
# preprocessing and the training all continue from what is on disk (remove DEMO_DIR to train again from scratch).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DEMO_DIR:=output/demo}"
: "${DATASET_PATH:=data/espeak}"
: "${NUM_CLIPS:=300}"
: "${FASTPITCH_EPOCHS:=10}"
: "${HIFIGAN_EPOCHS:=1}"
: "${PYTHON:=python3}"
export PYTHON DATASET_PATH
FILELISTS=filelists
START=$(date +%s)
step() { printf '\n== %s  [%d s]\n' "$*" $(( $(date +%s) - START )); }

step "1/8 Build the embedded corpus: eSpeak NG speaks $NUM_CLIPS of our sentences (LJSpeech layout, no filelists)"
bash scripts/build_corpus.sh "$DATASET_PATH" "$NUM_CLIPS"

step "2/8 Preprocess: train/val/test split (common/splits.py), mels, pitch per frame and per symbol, durations from the eSpeak timings"
bash scripts/prepare_dataset.sh --skip-download --filelists-dir "$FILELISTS"

step "3/8 Train a small FastPitch 1.0 ($FASTPITCH_EPOCHS epochs, eSpeak's durations; the recipe script with demo sizes)"
OUTPUT_DIR="$DEMO_DIR/fastpitch" PREFIX=espeak FILELISTS_DIR="$FILELISTS" BS=16 GRAD_ACCUMULATION=1 \
    EPOCHS="$FASTPITCH_EPOCHS" bash scripts/train_fastpitch.sh \
    --config-file configs/demo_fastpitch.json --warmup-steps 100 --epochs-per-checkpoint 5 --workers 1 \
    --no-tensorboard

step "4/8 Train a small FastPitch 1.1 ($FASTPITCH_EPOCHS epochs, no durations; the 1.1 recipe script with demo sizes)"
OUTPUT_DIR="$DEMO_DIR/fastpitch11" PREFIX=espeak FILELISTS_DIR="$FILELISTS" BS=16 GRAD_ACCUMULATION=1 \
    EPOCHS="$FASTPITCH_EPOCHS" bash scripts/train_fastpitch11.sh \
    --config-file configs/demo_fastpitch.json --warmup-steps 100 --epochs-per-checkpoint 5 --workers 1 \
    --no-tensorboard

step "5/8 Train a small HiFi-GAN ($HIFIGAN_EPOCHS epoch(s); the recipe script with demo sizes)"
OUTPUT_DIR="$DEMO_DIR/hifigan" PREFIX=espeak FILELISTS_DIR="$FILELISTS" BS=8 GRAD_ACCUMULATION=1 \
    EPOCHS="$HIFIGAN_EPOCHS" bash scripts/train_hifigan.sh \
    --config-file configs/demo_hifigan.json -lr 1e-3 --epochs-per-checkpoint 1 --validation-interval 1 --workers 1 \
    --no-tensorboard

FASTPITCH_CKPT="$DEMO_DIR/fastpitch/checkpoint_FastPitch_last.pt"
FASTPITCH11_CKPT="$DEMO_DIR/fastpitch11/checkpoint_FastPitch_last.pt"
HIFIGAN_CKPT="$DEMO_DIR/hifigan/checkpoint_HiFiGAN_last.pt"
TEXT_11=(--text-cleaners english_cleaners_v2 --p-arpabet 1.0)  # what scripts/train_fastpitch11.sh trains with
step "6/8 Score the models on the held-out test sentences, before and after training"
QUALITY="$DEMO_DIR/quality.jsonl"
: > "$QUALITY"
for state in untrained trained; do
    flag=$([[ $state == untrained ]] && echo --untrained || true)
    "$PYTHON" evaluate.py -m FastPitch --checkpoint "$FASTPITCH_CKPT" -d "$DATASET_PATH" $flag \
        --filelist "$FILELISTS/espeak_mel_dur_pitch_text_test_filelist.txt" \
        --pitch-mean-std-file "$DATASET_PATH/pitch_char_stats__espeak_audio_text_train_filelist.json" \
        --label "FastPitch 1.0 $state" >> "$QUALITY"
    "$PYTHON" evaluate.py -m FastPitch --checkpoint "$FASTPITCH11_CKPT" -d "$DATASET_PATH" $flag "${TEXT_11[@]}" \
        --filelist "$FILELISTS/espeak_mel_pitch_text_test_filelist.txt" --label "FastPitch 1.1 $state" >> "$QUALITY"
    "$PYTHON" evaluate.py -m HiFiGAN --checkpoint "$HIFIGAN_CKPT" -d "$DATASET_PATH" $flag \
        --filelist "$FILELISTS/espeak_audio_text_test_filelist.txt" --label "HiFi-GAN $state" >> "$QUALITY"
done

step "7/8 Synthesize phrases/phrase.txt: FastPitch + HiFi-GAN (3 timed repeats), FastPitch 1.0 and 1.1 + Griffin-Lim"
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio" --fastpitch "$FASTPITCH_CKPT" \
    --hifigan "$HIFIGAN_CKPT" --save-mels --cpu --include-warmup --repeats 3
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio_griffin_lim" --fastpitch "$FASTPITCH_CKPT" --cpu
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio_fastpitch11_griffin_lim" \
    --fastpitch "$FASTPITCH11_CKPT" "${TEXT_11[@]}" --cpu
"$PYTHON" scripts/plot_mels.py "$DEMO_DIR/mels.png" "$DEMO_DIR"/audio/*_mel.pt

step "8/8 Export FastPitch and HiFi-GAN to ONNX (checked against PyTorch) and synthesize with ONNX Runtime"
"$PYTHON" export.py -m FastPitch --checkpoint "$FASTPITCH_CKPT" --format onnx -o "$DEMO_DIR/onnx/fastpitch.onnx"
"$PYTHON" export.py -m HiFiGAN --checkpoint "$HIFIGAN_CKPT" --format onnx -o "$DEMO_DIR/onnx/hifigan.onnx"
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio_onnx" --backend onnxruntime \
    --fastpitch "$DEMO_DIR/onnx/fastpitch.onnx" --hifigan "$DEMO_DIR/onnx/hifigan.onnx" --include-warmup --repeats 3

"$PYTHON" - "$QUALITY" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print('\nQuality on the held-out test sentences (lower is better; untrained = same architecture, fresh weights;\n* MCD over mel-band cepstra, comparable between our runs only, see common/quality.py):')
print(f"{'model and weights':<24} {'mel L1':>8} {'MCD* (dB)':>9} {'frames':>7}")
for row in rows:
    print(f"{row['label']:<24} {row['mel_l1']:>8.3f} {row['mcd_db']:>9.2f} {row['frames']:>7}")
EOF

cat <<EOF

Done in $(( $(date +%s) - START )) s. Outputs in $DEMO_DIR:
  audio/audio_*.wav              FastPitch + HiFi-GAN
  audio_griffin_lim/audio_*.wav  FastPitch + Griffin-Lim (no neural vocoder)
  audio_fastpitch11_griffin_lim/ FastPitch 1.1 (trained without durations) + Griffin-Lim
  onnx/, audio_onnx/             FastPitch and HiFi-GAN exported to ONNX, and their audio by ONNX Runtime
  mels.png                       the synthesized mel spectrograms
  fastpitch/, fastpitch11/, hifigan/  checkpoints, nvlog.json logs

What to expect: a few minutes of CPU training on a few hundred synthetic clips teach FastPitch the rough timing,
pitch and spectral shape of the eSpeak voice (the mel spectrograms look right, the quality figures fall), but
the speech is blurred. FastPitch 1.1 has to learn where each symbol is as well, which the corpus's exact eSpeak
durations give 1.0 for free, so in the same minutes it scores a little worse here; on real recordings, where
durations would come from a Tacotron 2 trained for days first, it needs no teacher at all. HiFi-GAN after one
epoch has learnt the spectral envelope of the voice (its held-out mel L1 falls) but not the fine structure that
thousands of epochs give: compare its audio with the Griffin-Lim version. The full recipe trains on LJSpeech
(13,100 clips, 24 h) on GPUs: FastPitch 1500 epochs and HiFi-GAN 6500 (scripts/train_fastpitch.sh,
scripts/train_hifigan.sh; days on 8 GPUs), or starts from NVIDIA's published checkpoints, which inference.py
loads as they are.
EOF
