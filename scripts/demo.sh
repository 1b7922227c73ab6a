#!/usr/bin/env bash
# The main job (`make demo`): the reference recipes' Quick Start at demo scale, on the CPU, on the embedded corpus.
# Build the corpus, preprocess it, train a small FastPitch and a small WaveGlow for a few minutes each with the
# recipe scripts, score both models before and after training, synthesize phrases/phrase.txt (WaveGlow and
# Griffin-Lim) with the latency table, and draw the mels. About 10-15 minutes on 2 cores.
#
# Environment (defaults): DEMO_DIR (output/demo), DATASET_PATH (data/espeak), NUM_CLIPS (300),
# FASTPITCH_EPOCHS (10), WAVEGLOW_EPOCHS (3), PYTHON (python3). Reruns resume: the corpus, the preprocessing and
# the training all continue from what is on disk (remove DEMO_DIR to train again from scratch).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DEMO_DIR:=output/demo}"
: "${DATASET_PATH:=data/espeak}"
: "${NUM_CLIPS:=300}"
: "${FASTPITCH_EPOCHS:=10}"
: "${WAVEGLOW_EPOCHS:=3}"
: "${PYTHON:=python3}"
export PYTHON DATASET_PATH
FILELISTS=filelists
START=$(date +%s)
step() { printf '\n== %s  [%d s]\n' "$*" $(( $(date +%s) - START )); }

step "1/6 Build the embedded corpus: eSpeak NG speaks $NUM_CLIPS of our sentences (LJSpeech layout, no filelists)"
bash scripts/build_corpus.sh "$DATASET_PATH" "$NUM_CLIPS"

step "2/6 Preprocess: train/val/test split (common/splits.py), mels, durations from the eSpeak timings, pitch"
bash scripts/prepare_dataset.sh --skip-download --filelists-dir "$FILELISTS"

step "3/6 Train a small FastPitch ($FASTPITCH_EPOCHS epochs; the recipe script with demo sizes)"
OUTPUT_DIR="$DEMO_DIR/fastpitch" PREFIX=espeak FILELISTS_DIR="$FILELISTS" BS=16 GRAD_ACCUMULATION=1 \
    EPOCHS="$FASTPITCH_EPOCHS" bash scripts/train_fastpitch.sh \
    --config-file configs/demo_fastpitch.json --warmup-steps 100 --epochs-per-checkpoint 5 --workers 1 \
    --no-tensorboard

step "4/6 Train a small WaveGlow ($WAVEGLOW_EPOCHS epochs; the recipe script with demo sizes)"
OUTPUT_DIR="$DEMO_DIR/waveglow" PREFIX=espeak FILELISTS_DIR="$FILELISTS" BS=8 \
    EPOCHS="$WAVEGLOW_EPOCHS" bash scripts/train_waveglow.sh \
    --config-file configs/demo_waveglow.json --segment-length 4000 -lr 5e-4 --epochs-per-checkpoint 1 --workers 1 --no-tensorboard

FASTPITCH_CKPT="$DEMO_DIR/fastpitch/checkpoint_FastPitch_last.pt"
WAVEGLOW_CKPT="$DEMO_DIR/waveglow/checkpoint_WaveGlow_last.pt"
step "5/6 Score the models on the held-out test sentences, before and after training"
QUALITY="$DEMO_DIR/quality.jsonl"
: > "$QUALITY"
for state in untrained trained; do
    flag=$([[ $state == untrained ]] && echo --untrained || true)
    "$PYTHON" evaluate.py -m FastPitch --checkpoint "$FASTPITCH_CKPT" -d "$DATASET_PATH" $flag \
        --filelist "$FILELISTS/espeak_mel_dur_pitch_text_test_filelist.txt" \
        --pitch-mean-std-file "$DATASET_PATH/pitch_char_stats__espeak_audio_text_train_filelist.json" >> "$QUALITY"
    "$PYTHON" evaluate.py -m WaveGlow --checkpoint "$WAVEGLOW_CKPT" -d "$DATASET_PATH" $flag \
        --filelist "$FILELISTS/espeak_audio_text_test_filelist.txt" >> "$QUALITY"
done

step "6/6 Synthesize phrases/phrase.txt: FastPitch + WaveGlow (3 timed repeats), and FastPitch + Griffin-Lim"
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio" --fastpitch "$FASTPITCH_CKPT" \
    --waveglow "$WAVEGLOW_CKPT" --save-mels --cpu --include-warmup --repeats 3
"$PYTHON" inference.py -i phrases/phrase.txt -o "$DEMO_DIR/audio_griffin_lim" --fastpitch "$FASTPITCH_CKPT" --cpu
"$PYTHON" scripts/plot_mels.py "$DEMO_DIR/mels.png" "$DEMO_DIR"/audio/*_mel.pt

"$PYTHON" - "$QUALITY" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print('\nQuality on the held-out test sentences (lower is better; untrained = same architecture, fresh weights;\n* MCD over mel-band cepstra, comparable between our runs only, see common/quality.py):')
print(f"{'model':<10} {'weights':<10} {'mel L1':>8} {'MCD* (dB)':>9} {'frames':>7}")
for row in rows:
    print(f"{row['model']:<10} {row['label']:<10} {row['mel_l1']:>8.3f} {row['mcd_db']:>9.2f} {row['frames']:>7}")
EOF

cat <<EOF

Done in $(( $(date +%s) - START )) s. Outputs in $DEMO_DIR:
  audio/audio_*.wav              FastPitch + WaveGlow
  audio_griffin_lim/audio_*.wav  FastPitch + Griffin-Lim (no neural vocoder)
  mels.png                       the synthesized mel spectrograms
  fastpitch/, waveglow/          checkpoints, nvlog.json logs

What to expect: a few minutes of CPU training on a few hundred synthetic clips teach FastPitch the rough timing,
pitch and spectral shape of the eSpeak voice (the mel spectrograms look right, the quality figures fall), but
the speech is blurred; WaveGlow after a few epochs makes buzzy, noisy audio, so the Griffin-Lim version is the
clearer one. The full recipe trains on LJSpeech (13,100 clips, 24 h) on GPUs: FastPitch 1500 epochs and WaveGlow
1000+ epochs (scripts/train_fastpitch.sh, scripts/train_waveglow.sh; days on 8 GPUs), or starts from NVIDIA's
published checkpoints, which inference.py loads as they are.
EOF
