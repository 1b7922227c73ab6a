#!/usr/bin/env bash
# One command that exercises every CUDA path end to end on one NVIDIA GPU, then measures the GPU tables, in about
# 7.5 minutes on one H100/H200 (a time budget cuts it there: BUDGET_S). Run it from anywhere:
#
#   bash scripts/gpu_check.sh                          # on the GPU machine; results in output/gpu_check
#   GPU_CHECK_DEVICE=cpu bash scripts/gpu_check.sh     # the same pipeline on the CPU at the smallest sizes (a test)
#
# Without network on the GPU machine: fill .whl/ beforehand where PyPI answers (bash scripts/gpu_wheelhouse.sh)
# and carry it with the checkout; step a installs what the machine lacks from it into WHEEL_TARGET and puts that
# on PYTHONPATH. With network, `bash scripts/setup.sh --test` first instead.
#
# Steps, run in the order a, f, c, d, e, g, h, i with b beside c-e (each one's output in RESULTS/logs/STEP.log; a
# failed step is recorded and the next one runs):
#   a  the carried wheels; the GPU (nvidia-smi, torch, device name, capability); our imports; librosa's pYIN
#      compiled once by numba, beside f (a fresh install's forked preprocessing workers would all compile it at
#      once, and crashed doing so)
#   b  python -m pytest -q -m cuda tests/ (GPU against CPU outputs, training in fp32/fp16/bf16, resuming),
#      in the background while c-e run
#   c  the embedded eSpeak NG corpus (scripts/build_corpus.sh, NUM_CLIPS clips) and its preprocessing
#      (scripts/prepare_dataset.sh: split, mels, durations, pitch) with WORKERS processes
#   d  each model at demo sizes (configs/demo_*.json; Tacotron 2: T2_DEMO_FLAGS) through its recipe script for
#      DEMO_STEPS optimizer steps in fp32, fp16 (--amp) and bf16 (--amp --amp-dtype bf16); then FastPitch's fp32
#      run resumed for a second epoch (--resume-from-last; the log must hold both epochs). One chain per model
#      (Tacotron 2, FastPitch, WaveGlow, HiFi-GAN), side by side (PARALLEL=1)
#   e  inference.py --cuda, Tacotron 2 + WaveGlow, FastPitch + WaveGlow and FastPitch + HiFi-GAN from d's fp32
#      checkpoints: plain, --amp, --torchscript (WAVs of phrases/phrase_4_64.txt at batch 2, one timed repeat
#      after a warm-up)
#   f  latency tables of default-size models with RANDOM weights (scripts/gpu_tables.py checkpoints: Tacotron 2
#      always decoding LAT_T2_STEPS steps, FastPitch durations fixed at LAT_FP_FRAMES_PER_SYMBOL frames per symbol,
#      WaveGlow with LAT_WG_CHANNELS WN channels, HiFi-GAN V1) through scripts/inference_benchmark.sh: Tacotron 2 +
#      WaveGlow, FastPitch + WaveGlow and FastPitch + HiFi-GAN, batch LAT_BS, 128-character lines (LAT_PHRASES),
#      FP16 and TF32 (fp32 with cuDNN's TF32 default and TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1, as NGC containers run
#      it)
#   g  training throughput of each default-size model with --amp through platform/DGXA100_*_AMP_1GPU.sh at the
#      recipe's batch sizes (Tacotron 2 104, WaveGlow 10 x 8000 samples, FastPitch 32 x 8 accumulation), TP_STEPS
#      steps on the embedded corpus's clips repeated, the first TP_SKIP left out; against one V100's AMP figures
#   h  python -m benchmarks.speed SPEED_ARGS (its failure is reported as WARN and does not fail the run)
#   i  the summary: every step PASS/FAIL/SKIP with its time and log, the tables in Markdown, in RESULTS/summary.md;
#      when OUT is set, the summary, the tables, the console log and a tarball of the logs are copied there
#
# Environment (GPU default / CPU-mode default):
#   GPU_CHECK_DEVICE cuda|cpu [cuda]   RESULTS [output/gpu_check]   PYTHON [python3]   BUDGET_S [450 / 5400]
#   WHEELHOUSE [.whl]   WHEEL_TARGET [${TMPDIR:-/tmp}/gpu_check_site]   WORKERS [nproc]   PARALLEL [1 / 1]
#   NUM_CLIPS [300 / 24]   DEMO_STEPS [4 / 1]   DEMO_BS_TACOTRON2 [16 / 2]   DEMO_BS_FASTPITCH [16 / 2]
#   DEMO_BS_WAVEGLOW [8 / 1]   DEMO_BS_HIFIGAN [8 / 1]   TRAIN_WORKERS [4 / 0]   INFER_T2_STEPS [400 / 30]
#   LAT_PHRASES [phrases/phrase_8_128.txt / phrases/phrase_1_64.txt]   LAT_BS ["1 4"]
#   LAT_REPEATS_TACOTRON2 [2 / 1]   LAT_REPEATS_FASTPITCH [10 / 1]   LAT_T2_STEPS [860 / 30]
#   LAT_FP_FRAMES_PER_SYMBOL [7 / 1]   LAT_WG_CHANNELS [256]
#   TP_STEPS [8 / 2]   TP_SKIP [2 / 1]   TP_BS_TACOTRON2 [104 / 2]   TP_BS_WAVEGLOW [10 / 1]
#   TP_BS_FASTPITCH [32 / 2]   TP_ACCUM_FASTPITCH [8 / 1]   TP_WORKERS [8 / 0]   TP_SIZES [default / demo]
#   SPEED_ARGS ["--devices cuda" / "--devices cpu --quick --cases fp10_infer"]
#   T_* per-step time limits in seconds (below); the budget cuts every limit to the time left
# In CPU mode only what a GPU alone can do is skipped or changed, and the summary says so: the cuda tests report
# skipped, fp16 training is expected to be refused (SKIP when it is), --amp is bfloat16 (inference.py) or
# --amp-dtype bf16 (step g), step g trains demo sizes (TP_SIZES=demo), and OMP_NUM_THREADS defaults to 1.
# Exit code: 0 when no step failed (SKIP and WARN do not count), 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

: "${GPU_CHECK_DEVICE:=cuda}"
case "$GPU_CHECK_DEVICE" in
    cuda) CPU_MODE=0 ;;
    cpu) CPU_MODE=1 ;;
    *) echo "gpu_check.sh: GPU_CHECK_DEVICE is cuda or cpu, got '$GPU_CHECK_DEVICE'" >&2; exit 2 ;;
esac
pick() { if (( CPU_MODE )); then echo "$2"; else echo "$1"; fi; }  # pick GPU_DEFAULT CPU_DEFAULT
# CPU mode runs several processes side by side on few cores: one thread each, or OpenMP's waiting threads stall them
(( CPU_MODE )) && export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

: "${RESULTS:=output/gpu_check}"
: "${PYTHON:=python3}"
: "${BUDGET_S:=$(pick 450 5400)}"
: "${WHEELHOUSE:=.whl}"
: "${WHEEL_TARGET:=${TMPDIR:-/tmp}/gpu_check_site}"
: "${WORKERS:=$(nproc)}"
: "${PARALLEL:=1}"
: "${NUM_CLIPS:=$(pick 300 24)}"
: "${DEMO_STEPS:=$(pick 4 1)}"
: "${DEMO_BS_TACOTRON2:=$(pick 16 2)}"
: "${DEMO_BS_FASTPITCH:=$(pick 16 2)}"
: "${DEMO_BS_WAVEGLOW:=$(pick 8 1)}"
: "${DEMO_BS_HIFIGAN:=$(pick 8 1)}"
: "${TRAIN_WORKERS:=$(pick 4 0)}"
: "${T2_DEMO_FLAGS:=--symbols-embedding-dim 128 --encoder-embedding-dim 128 --encoder-n-convolutions 2 \
--attention-rnn-dim 256 --attention-dim 64 --decoder-rnn-dim 256 --prenet-dim 128 --postnet-embedding-dim 128 \
--postnet-n-convolutions 3}"
: "${INFER_T2_STEPS:=$(pick 400 30)}"
: "${LAT_PHRASES:=$(pick phrases/phrase_8_128.txt phrases/phrase_1_64.txt)}"
: "${LAT_BS:=1 4}"
: "${LAT_REPEATS_TACOTRON2:=$(pick 2 1)}"
: "${LAT_REPEATS_FASTPITCH:=$(pick 10 1)}"
: "${LAT_T2_STEPS:=$(pick 860 30)}"
: "${LAT_FP_FRAMES_PER_SYMBOL:=$(pick 7 1)}"
: "${LAT_WG_CHANNELS:=256}"
: "${TP_STEPS:=$(pick 8 2)}"
: "${TP_SKIP:=$(pick 2 1)}"
: "${TP_BS_TACOTRON2:=$(pick 104 2)}"
: "${TP_BS_WAVEGLOW:=$(pick 10 1)}"
: "${TP_BS_FASTPITCH:=$(pick 32 2)}"
: "${TP_ACCUM_FASTPITCH:=$(pick 8 1)}"
: "${TP_WORKERS:=$(pick 8 0)}"
: "${TP_SIZES:=$(pick default demo)}"
: "${SPEED_ARGS:=$(pick "--devices cuda" "--devices cpu --quick --cases fp10_infer")}"
# per-step time limits (s)
: "${T_SETUP:=180}" "${T_WARM:=$(pick 240 900)}" "${T_PYTEST:=$(pick 300 1800)}" "${T_CORPUS:=$(pick 120 600)}"
: "${T_PREPARE:=$(pick 180 900)}"
: "${T_TRAIN:=$(pick 120 600)}" "${T_INFER:=$(pick 90 600)}" "${T_CHECKPOINTS:=$(pick 90 300)}"
: "${T_LATENCY:=$(pick 150 900)}" "${T_THROUGHPUT:=$(pick 120 900)}" "${T_SPEED:=$(pick 90 600)}"
MIN_STEP_S=10  # a step that would get less than this of the budget is skipped

START=$(date +%s)
DEADLINE=$(( START + BUDGET_S ))
mkdir -p "$RESULTS"
R=$(cd "$RESULTS" && pwd)
# a fresh run: earlier training runs would resume and earlier logs would mix in; the corpus is kept and reused
rm -rf "$R/status" "$R/logs" "$R/train" "$R/infer" "$R/latency" "$R/throughput" "$R/tables" "$R/checkpoints"
mkdir -p "$R/status" "$R/logs" "$R/tables" "$R/bin"
MAINLOG="$R/gpu_check.log"
: > "$MAINLOG"
say() { echo "$*" | tee -a "$MAINLOG"; }

# `python` is what the recipe scripts call: make it $PYTHON (a wrapper, not a link: a link to a venv's python
# loses the venv)
PYTHON_BIN=$(command -v "$PYTHON") || { echo "gpu_check.sh: $PYTHON not found" >&2; exit 2; }
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PYTHON_BIN" > "$R/bin/python"
chmod +x "$R/bin/python"
export PATH="$R/bin:$PATH" PYTHON

DEV_FLAG=$(pick --cuda --cpu)
CORPUS="$R/data/espeak"
LISTS="$R/filelists"
export R REPO CORPUS LISTS CPU_MODE DEV_FLAG GPU_CHECK_DEVICE

# --- bookkeeping ----------------------------------------------------------------------------------------------------

# record ID STATUS SECONDS LOG NOTE: one line per step in $R/status/ID.status (tab-separated)
record() { printf '%s\t%s\t%s\t%s\n' "$2" "$3" "${4#$REPO/}" "$5" > "$R/status/$1.status"; }

# run_step ID LIMIT DESCRIPTION -- COMMAND...: COMMAND (a program or an exported function) under `timeout`, its
# output in $R/logs/ID.log; PASS on exit 0, else FAIL with the log's tail printed. A step whose log shows what
# EXPECT_REFUSAL (a regex) names, with a non-zero exit, is SKIP instead (CPU mode: fp16 training).
run_step() {
    local id=$1 limit=$2 description=$3
    shift 4  # ... --
    local log="$R/logs/$id.log" now remaining status note=""
    now=$(date +%s)
    remaining=$(( DEADLINE - now ))
    if (( remaining < MIN_STEP_S )); then
        record "$id" SKIP 0 "" "out of the time budget (BUDGET_S=$BUDGET_S)"
        say "-- [$id] SKIP: out of the time budget"
        return 0
    fi
    (( limit > remaining )) && limit=$remaining
    say "== [$id] $description (limit ${limit} s, log ${log#$REPO/})"
    local begin=$SECONDS
    timeout -k 20 "$limit" bash -c '"$@"' _ "$@" > "$log" 2>&1 < /dev/null
    local rc=$? took=$(( SECONDS - begin ))
    if (( rc == 0 )); then
        status=PASS
        note=$(step_note "$id" "$log")
    elif [[ -n "${EXPECT_REFUSAL:-}" ]] && grep -Eq "$EXPECT_REFUSAL" "$log"; then
        status=SKIP
        note="refused as expected on the CPU: $(grep -Eo "$EXPECT_REFUSAL.*" "$log" | head -1 | cut -c1-150)"
    else
        status=FAIL
        if (( rc == 124 || rc == 137 )); then note="timed out after ${limit} s"; else note="exit code $rc"; fi
        { echo "   ... last lines of ${log#$REPO/}:"
          tail -c 20000 "$log" | tr '\r' '\n' | grep -v '^ *$' | tail -n 15 | cut -c1-300 | sed 's/^/   | /'
        } | tee -a "$MAINLOG"
    fi
    record "$id" "$status" "$took" "$log" "$note"
    say "-- [$id] $status in ${took} s${note:+: $note}"
}

# A short note for a passed step, read from its log.
step_note() {
    case "$1" in
        b_pytest_cuda) tail -n 3 "$2" | grep -Eo '[0-9]+ (passed|skipped|deselected|failed)[^=]*' | head -1 ;;
        d_*) grep -Eo '[0-9]+ parameters, [^,]+, [^,]+' "$2" | head -1 ;;
        e_*) grep -E 'WAV files for|real-time factor' "$2" | tr -s ' ' | paste -sd ';' ;;
        g_*) grep -E '^\| [A-Za-z0-9]+ \|' "$2" | tail -1 | awk -F'|' '{ gsub(/^ +| +$/, "", $6);
                 gsub(/^ +| +$/, "", $8); print $6 " (" $8 " of one V100)" }' ;;
        *) true ;;
    esac
}

# repeat_lines SRC N DST: the first N lines of SRC repeated as often as needed
repeat_lines() {
    awk -v n="$2" '{ line[NR] = $0 } END { if (NR == 0) exit 1; for (i = 0; i < n; i++) print line[i % NR + 1] }' \
        "$1" > "$3"
}

# --- a: wheels, GPU, imports ----------------------------------------------------------------------------------------

step_setup() {
    set -o pipefail
    if compgen -G "$WHEELHOUSE/*.whl" > /dev/null; then
        echo "installing the carried wheels from $WHEELHOUSE that this Python lacks into $WHEEL_TARGET"
        # an earlier run's folder is replaced (only one this script made); what is installed is judged without it
        [[ -f "$WHEEL_TARGET/.gpu_check_site" ]] && rm -rf "$WHEEL_TARGET"
        PYTHONPATH="$ORIGINAL_PYTHONPATH" "$PYTHON" scripts/gpu_tables.py wheels "$WHEELHOUSE" "$WHEEL_TARGET" \
            || return 1
        mkdir -p "$WHEEL_TARGET" && touch "$WHEEL_TARGET/.gpu_check_site"
    else
        echo "no $WHEELHOUSE/*.whl: using the installed packages"
    fi
    df -h /dev/shm /tmp "$R" 2> /dev/null || true  # DataLoader workers share tensors through /dev/shm
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi || true
        nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,power.limit --format=csv || true
    else
        echo "nvidia-smi: not found"
    fi
    "$PYTHON" - <<'EOF'
import os, platform, sys
import torch
print(f'python {platform.python_version()} ({sys.executable}), torch {torch.__version__}, CUDA {torch.version.cuda}, '
      f'cuDNN {torch.backends.cudnn.version()}')
for name in ('librosa', 'soundfile', 'inflect', 'unidecode', 'espeakng_loader', 'numpy', 'scipy', 'tensorboard',
             'matplotlib', 'tqdm', 'pytest'):
    module = __import__(name)
    print(f'  {name} {getattr(module, "__version__", "")} from {os.path.dirname(module.__file__)}')
from common.corpus import espeak
print('  eSpeak NG:', espeak.find_backend())
if os.environ['GPU_CHECK_DEVICE'] == 'cuda':
    if not torch.cuda.is_available():
        sys.exit('torch sees no CUDA GPU (GPU_CHECK_DEVICE=cpu runs the CPU pipeline)')
    props = torch.cuda.get_device_properties(0)
    print(f'GPU: {torch.cuda.get_device_name(0)}, capability {".".join(map(str, torch.cuda.get_device_capability(0)))}'
          f', {props.total_memory / 2**30:.1f} GiB, {props.multi_processor_count} SMs, {torch.cuda.device_count()} '
          'device(s)')
    print(f'TF32 by default: cuDNN {torch.backends.cudnn.allow_tf32}, cuBLAS {torch.backends.cuda.matmul.allow_tf32}'
          f' (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE={os.environ.get("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "unset")})')
else:
    print(f'CPU mode: {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}; '
          f'a CUDA GPU {"is" if torch.cuda.is_available() else "is not"} visible')
EOF
}

# librosa's pYIN is numba code, compiled at its first use and cached beside librosa. On a fresh install the forked
# workers of prepare_dataset.py (and of the cuda tests' corpus fixture) would each compile it at once: minutes of
# CPU, and here concurrent compiles crashed workers, which left prepare_dataset.py's pool waiting forever. So one
# process compiles it first; the workers then load it from the cache.
step_warm() {
    "$PYTHON" - <<'EOF'
import time
import torch
start = time.time()
from fastpitch.pitch import frame_pitch
from common.stft import TacotronSTFT
f0 = frame_pitch(torch.sin(2 * torch.pi * 200 * torch.arange(22050) / 22050) * 0.3, 22050, 1024, 256)
TacotronSTFT()
print(f'librosa.pyin compiled and cached in {time.time() - start:.1f} s (a 200 Hz tone: median f0 '
      f'{f0[f0 > 0].median():.1f} Hz)')
EOF
}

# --- b: the cuda tests ----------------------------------------------------------------------------------------------

step_pytest() {
    "$PYTHON" -m pytest -q -m cuda tests/ -p no:cacheprovider
}

# --- c: corpus ------------------------------------------------------------------------------------------------------

step_corpus() {
    bash scripts/build_corpus.sh "$CORPUS" "$NUM_CLIPS" --workers "$WORKERS" && ls "$CORPUS/wavs" | wc -l
}

step_prepare() {
    DATASET_PATH="$CORPUS" bash scripts/prepare_dataset.sh --skip-download --filelists-dir "$LISTS" --prefix espeak \
        --workers "$WORKERS" && wc -l "$LISTS"/espeak_*_filelist.txt
}

# --- d: demo-size training ------------------------------------------------------------------------------------------

# train_demo MODEL PRECISION DIR [EPOCHS]: the model's recipe script at demo size for DEMO_STEPS steps per epoch
train_demo() {
    local model=$1 precision=$2 dir=$3 epochs=${4:-1} bs list amp=false extra=()
    case "$precision" in
        fp16) amp=true ;;
        bf16) amp=true; extra+=(--amp-dtype bf16) ;;
    esac
    case "$model" in
        Tacotron2) bs=$DEMO_BS_TACOTRON2; list=espeak_mel_text; read -ra sizes <<< "$T2_DEMO_FLAGS"
                   extra+=("${sizes[@]}") ;;
        FastPitch) bs=$DEMO_BS_FASTPITCH; list=espeak_mel_dur_pitch_text
                   extra+=(--config-file configs/demo_fastpitch.json --warmup-steps 100) ;;
        WaveGlow) bs=$DEMO_BS_WAVEGLOW; list=espeak_audio_text
                  extra+=(--config-file configs/demo_waveglow.json --segment-length 4000 -lr 5e-4) ;;
        HiFiGAN) bs=$DEMO_BS_HIFIGAN; list=espeak_audio_text; extra+=(--config-file configs/demo_hifigan.json) ;;
    esac
    local train_list="$R/train/${list}_demo_train.txt"
    mkdir -p "$R/train" "$dir"
    [[ -f "$train_list" ]] || repeat_lines "$LISTS/${list}_train_filelist.txt" $(( DEMO_STEPS * bs )) "$train_list" \
        || return 1
    local script=scripts/train_$(echo "$model" | tr 'A-Z' 'a-z').sh
    OUTPUT_DIR="$dir" DATASET_PATH="$CORPUS" FILELISTS_DIR="$LISTS" PREFIX=espeak AMP=$amp BS=$bs \
        GRAD_ACCUMULATION=1 EPOCHS=$epochs bash "$script" "${extra[@]}" -bs "$bs" --training-files "$train_list" \
        --workers "$TRAIN_WORKERS" --no-tensorboard --epochs-per-checkpoint 1 || return 1
    ls -l "$dir"/checkpoint_"$model"_last.pt
}

resume_demo() {  # the fp32 FastPitch run, resumed for a second epoch; its log must hold both epochs
    train_demo FastPitch fp32 "$1" 2 && "$PYTHON" scripts/gpu_tables.py resumed "$1/nvlog_fastpitch.json" --epochs 2
}
export -f train_demo resume_demo repeat_lines

train_chain() {  # train_chain MODEL: fp32, (FastPitch: resume), fp16, bf16
    local model=$1 lower
    lower=$(echo "$1" | tr 'A-Z' 'a-z')
    run_step "d_${lower}_1fp32" "$T_TRAIN" "$model, demo size, fp32" -- train_demo "$model" fp32 "$R/train/$lower/fp32"
    if [[ "$model" == FastPitch ]]; then
        run_step "d_${lower}_2resume" "$T_TRAIN" "$model, fp32 run resumed for epoch 2 (--resume-from-last)" -- \
            resume_demo "$R/train/$lower/fp32"
    fi
    EXPECT_REFUSAL=$( (( CPU_MODE )) && echo 'needs a CUDA device' ) \
        run_step "d_${lower}_3fp16" "$T_TRAIN" "$model, demo size, fp16 (--amp)" -- \
        train_demo "$model" fp16 "$R/train/$lower/fp16"
    run_step "d_${lower}_4bf16" "$T_TRAIN" "$model, demo size, bf16 (--amp --amp-dtype bf16)" -- \
        train_demo "$model" bf16 "$R/train/$lower/bf16"
}

# --- e: inference ---------------------------------------------------------------------------------------------------

# infer GENERATOR VOCODER MODE: inference.py with the demo checkpoints; MODE plain|amp|torchscript
infer() {
    local generator=$1 vocoder=$2 mode=$3 flags=() out ckpt
    local lower vocoder_lower
    lower=$(echo "$generator" | tr 'A-Z' 'a-z')
    vocoder_lower=$(echo "$vocoder" | tr 'A-Z' 'a-z')
    ckpt="$R/train/$lower/fp32/checkpoint_${generator}_last.pt"
    out="$R/infer/${lower}_${vocoder_lower}_$mode"
    case "$mode" in amp) flags+=(--amp) ;; torchscript) flags+=(--torchscript) ;; esac
    [[ "$generator" == Tacotron2 ]] && flags+=(--max-decoder-steps "$INFER_T2_STEPS")
    "$PYTHON" inference.py -i phrases/phrase_4_64.txt -o "$out" "--$lower" "$ckpt" \
        "--$vocoder_lower" "$R/train/$vocoder_lower/fp32/checkpoint_${vocoder}_last.pt" "$DEV_FLAG" -bs 2 \
        --include-warmup --repeats 1 "${flags[@]}" || return 1
    local wavs lines
    wavs=$(ls "$out"/audio_*.wav 2> /dev/null | wc -l)
    lines=$(grep -c . phrases/phrase_4_64.txt)
    echo "$wavs WAV files for $lines input lines"
    (( wavs == lines ))
}
export -f infer

infer_chain() {  # infer_chain GENERATOR VOCODER
    local generator=$1 vocoder=$2 lower mode amp_label
    lower=$(echo "$1_$2" | tr 'A-Z' 'a-z')
    amp_label=$(pick "fp16" "bf16 on the CPU")
    for mode in plain amp torchscript; do
        run_step "e_${lower}_$mode" "$T_INFER" "inference.py: $generator + $vocoder, $mode$([[ $mode == amp ]] && \
echo " ($amp_label)")" -- infer "$generator" "$vocoder" "$mode"
    done
}

# --- f: latency -----------------------------------------------------------------------------------------------------

latency() {  # latency GENERATOR VOCODER(WaveGlow|HiFiGAN) PRECISION(fp16|fp32) REPEATS
    local generator=$1 vocoder_name=$2 precision=$3 lower env=()
    lower=$(echo "$generator" | tr 'A-Z' 'a-z')
    local ckpt=("$R"/checkpoints/"$lower"_random*.pt) vocoder
    vocoder=("$R"/checkpoints/$(echo "$vocoder_name" | tr 'A-Z' 'a-z')*_random.pt)
    [[ -f "${ckpt[0]}" && -f "${vocoder[0]}" ]] || { echo "no random checkpoints in $R/checkpoints (f_1)"; return 1; }
    [[ "$precision" == fp32 && "$CPU_MODE" == 0 ]] && env+=(TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1)
    local generator_env=(TACOTRON2=) vocoder_env=(WAVEGLOW="${vocoder[0]}")
    if [[ "$generator" == Tacotron2 ]]; then generator_env=(TACOTRON2="${ckpt[0]}"); else
        generator_env+=(FASTPITCH="${ckpt[0]}"); fi
    [[ "$vocoder_name" == HiFiGAN ]] && vocoder_env=(HIFIGAN="${vocoder[0]}")
    env "${env[@]}" "${generator_env[@]}" "${vocoder_env[@]}" PHRASES="$LAT_PHRASES" BS_SEQUENCE="$LAT_BS" \
        PRECISIONS="$precision" REPEATS="$4" DEVICE="$GPU_CHECK_DEVICE" RESULTS_DIR="$R/latency/$lower" \
        bash scripts/inference_benchmark.sh
}
export -f latency

# --- g: training throughput -----------------------------------------------------------------------------------------

throughput() {  # throughput MODEL: the 1-GPU AMP recipe for TP_STEPS steps
    local model=$1 lower bs accum=1 list extra=()
    lower=$(echo "$model" | tr 'A-Z' 'a-z')
    case "$model" in
        Tacotron2) bs=$TP_BS_TACOTRON2; list=espeak_mel_text
                   [[ "$TP_SIZES" == demo ]] && read -ra extra <<< "$T2_DEMO_FLAGS" ;;
        WaveGlow) bs=$TP_BS_WAVEGLOW; list=espeak_audio_text
                  [[ "$TP_SIZES" == demo ]] && extra+=(--config-file configs/demo_waveglow.json) ;;
        FastPitch) bs=$TP_BS_FASTPITCH; accum=$TP_ACCUM_FASTPITCH; list=espeak_mel_dur_pitch_text
                   [[ "$TP_SIZES" == demo ]] && extra+=(--config-file configs/demo_fastpitch.json) ;;
    esac
    (( CPU_MODE )) && extra+=(--amp-dtype bf16)
    local dir="$R/throughput/$lower" train_list="$R/throughput/${list}_x.txt"
    mkdir -p "$dir"
    repeat_lines "$LISTS/${list}_train_filelist.txt" $(( TP_STEPS * bs * accum )) "$train_list" || return 1
    OUTPUT_DIR="$dir" DATASET_PATH="$CORPUS" FILELISTS_DIR="$LISTS" PREFIX=espeak BS=$bs GRAD_ACCUMULATION=$accum \
        EPOCHS=1 bash "platform/DGXA100_${model}_AMP_1GPU.sh" "${extra[@]}" --training-files "$train_list" \
        --workers "$TP_WORKERS" --no-tensorboard || return 1
    "$PYTHON" scripts/gpu_tables.py training "$model=$dir/nvlog_$lower.json" --skip "$TP_SKIP"
}
export -f throughput

step_speed() {
    local args
    read -ra args <<< "$SPEED_ARGS"
    "$PYTHON" -m benchmarks.speed "${args[@]}" --json "$R/tables/speed.json"
}
export -f step_setup step_warm step_pytest step_corpus step_prepare step_speed
export WHEELHOUSE WHEEL_TARGET NUM_CLIPS WORKERS DEMO_STEPS DEMO_BS_TACOTRON2 DEMO_BS_FASTPITCH DEMO_BS_WAVEGLOW \
    DEMO_BS_HIFIGAN TRAIN_WORKERS T2_DEMO_FLAGS INFER_T2_STEPS LAT_PHRASES LAT_BS TP_STEPS TP_SKIP TP_BS_TACOTRON2 \
    TP_BS_WAVEGLOW TP_BS_FASTPITCH TP_ACCUM_FASTPITCH TP_WORKERS TP_SIZES SPEED_ARGS

# --- the run --------------------------------------------------------------------------------------------------------

say "gpu_check.sh: $(pick "GPU" "CPU mode (GPU_CHECK_DEVICE=cpu: smallest sizes, GPU-only parts skipped)") run, \
results in ${R#$REPO/}, budget ${BUDGET_S} s, started $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

export ORIGINAL_PYTHONPATH="${PYTHONPATH:-}"
if compgen -G "$WHEELHOUSE/*.whl" > /dev/null; then  # step a installs there what this Python lacks
    export PYTHONPATH="$WHEEL_TARGET${PYTHONPATH:+:$PYTHONPATH}"
fi
run_step a_1setup "$T_SETUP" "carried wheels, GPU, imports" -- step_setup
grep -E '^(python|GPU:|TF32|CPU mode)' "$R/logs/a_1setup.log" | sed 's/^/   /' | tee -a "$MAINLOG"

# DataLoader workers pass batches through /dev/shm: where it is missing or small, load in the training process
shm_mb=$(df -Pm /dev/shm 2> /dev/null | awk 'NR == 2 { print $4 }')
if [[ -z "$shm_mb" ]] || (( shm_mb < 1024 )); then
    say "   /dev/shm has ${shm_mb:-no} MB free: training loads its data in the training process (--workers 0)"
    TRAIN_WORKERS=0 TP_WORKERS=0
fi

# The latency tables first, on an idle GPU, while one process compiles librosa's numba code (one CPU core of many)
run_step a_2warm "$T_WARM" "librosa's numba code compiled once, before forked workers need it (beside f)" -- \
    step_warm &
WARM_PID=$!
run_step f_1checkpoints "$T_CHECKPOINTS" "random default-size checkpoints (Tacotron 2 $LAT_T2_STEPS steps, \
WaveGlow-$LAT_WG_CHANNELS, FastPitch $LAT_FP_FRAMES_PER_SYMBOL frames/symbol, HiFi-GAN V1)" -- \
    "$PYTHON" scripts/gpu_tables.py checkpoints "$R/checkpoints" --t2-steps "$LAT_T2_STEPS" \
    --wg-channels "$LAT_WG_CHANNELS" --fp-frames-per-symbol "$LAT_FP_FRAMES_PER_SYMBOL"
FP16_LABEL=$(pick fp16 "bf16 (--amp on the CPU)")
FP32_LABEL=$(pick tf32 fp32)
for pair in Tacotron2+WaveGlow FastPitch+WaveGlow FastPitch+HiFiGAN; do
    generator=${pair%+*} vocoder_name=${pair#*+}
    lower=$(echo "$pair" | tr 'A-Z+' 'a-z_')
    repeats_var=LAT_REPEATS_$(echo "$generator" | tr 'a-z' 'A-Z')
    vocoder_label=$([[ $vocoder_name == WaveGlow ]] && echo "WaveGlow-$LAT_WG_CHANNELS" || echo "HiFi-GAN V1")
    for precision in fp16 fp32; do
        label=$([[ $precision == fp16 ]] && echo "$FP16_LABEL" || echo "$FP32_LABEL")
        run_step "f_${lower}_${precision/fp32/tf32}" "$T_LATENCY" "latency, $generator + $vocoder_label, \
random weights, $label, batch ${LAT_BS// /,}, ${!repeats_var} repeats of $LAT_PHRASES" -- \
            latency "$generator" "$vocoder_name" "$precision" "${!repeats_var}"
    done
done

wait "$WARM_PID"

run_step c_1corpus "$T_CORPUS" "embedded corpus: $NUM_CLIPS clips, $WORKERS workers" -- step_corpus

# b runs beside c-e: it only checks, it measures nothing
run_step b_pytest_cuda "$T_PYTEST" "python -m pytest -q -m cuda tests/ (in the background)" -- step_pytest &
PYTEST_PID=$!
run_step c_2prepare "$T_PREPARE" "preprocessing: split, mels, durations, pitch ($WORKERS workers)" -- step_prepare

if (( PARALLEL )); then
    pids=()
    for model in Tacotron2 FastPitch WaveGlow HiFiGAN; do train_chain "$model" & pids+=($!); done
    wait "${pids[@]}"
    pids=()
    for pair in "Tacotron2 WaveGlow" "FastPitch WaveGlow" "FastPitch HiFiGAN"; do
        infer_chain $pair & pids+=($!)
    done
    wait "${pids[@]}"
else
    for model in Tacotron2 FastPitch WaveGlow HiFiGAN; do train_chain "$model"; done
    for pair in "Tacotron2 WaveGlow" "FastPitch WaveGlow" "FastPitch HiFiGAN"; do infer_chain $pair; done
fi
wait "$PYTEST_PID"  # the training measurements have the GPU to themselves

for model in Tacotron2 WaveGlow FastPitch; do
    run_step "g_$(echo "$model" | tr 'A-Z' 'a-z')" "$T_THROUGHPUT" "training throughput, $model, $TP_SIZES size, \
$(pick "AMP (fp16)" "AMP as bf16 on the CPU"), $TP_STEPS steps" -- throughput "$model"
done

run_step h_speed "$T_SPEED" "python -m benchmarks.speed $SPEED_ARGS" -- step_speed
if grep -q $'^FAIL\t' "$R/status/h_speed.status"; then  # another engineer's module, still changing: tolerated
    IFS=$'\t' read -r _ took log note < "$R/status/h_speed.status"
    record h_speed WARN "$took" "$log" "$note (tolerated: not counted in the exit code)"
fi

# --- i: summary -----------------------------------------------------------------------------------------------------

SUMMARY="$R/summary.md"
{
    echo "# GPU check, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Mode: $(pick "GPU (cuda)" "CPU (GPU_CHECK_DEVICE=cpu, smallest sizes; what only a GPU does is skipped)"); \
$(grep -E '^(GPU:|python )' "$R/logs/a_1setup.log" | tr '\n' ' ')"
    echo
    echo "## Steps"
    echo
    "$PYTHON" scripts/gpu_tables.py summary "$R/status"
    echo
    echo "## Inference latency: default-size models with RANDOM weights"
    echo
    echo "Tacotron 2 always decodes $LAT_T2_STEPS frames (decoder_no_early_stopping and a stop gate that never fires,"
    echo "so inference.py warns that every line reached max_decoder_steps; 860 is about the frames of a 128-character"
    echo "LJSpeech line), FastPitch's durations are fixed at $LAT_FP_FRAMES_PER_SYMBOL frames per symbol, WaveGlow has"
    echo "$LAT_WG_CHANNELS WN channels, denoiser on. Input $LAT_PHRASES; one measured run per batch; passes over the"
    echo "input after one unmeasured warm-up pass: Tacotron 2 $LAT_REPEATS_TACOTRON2, FastPitch $LAT_REPEATS_FASTPITCH"
    echo "(runs = passes x batches). Measured first, on an otherwise idle GPU, while one process compiled librosa's"
    echo "numba code on one CPU core (step a_2warm)."
    echo "$(pick "tf32: fp32 weights with TF32 matrix products (cuDNN's default, TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1)." \
        "CPU mode: fp16 is --amp, which is bfloat16 on the CPU.")"
    echo
    compgen -G "$R/latency/*/*.json" > /dev/null \
        && "$PYTHON" scripts/gpu_tables.py latency "$R"/latency/*/*.json --fp32-label "$FP32_LABEL" \
        || echo "(no latency logs)"
    echo
    echo "## Training throughput, AMP, $TP_SIZES-size models"
    echo
    echo "The recipe's 1-GPU AMP launchers (platform/DGXA100_*_AMP_1GPU.sh), $TP_STEPS steps on the embedded corpus's"
    echo "clips (shorter than LJSpeech's: FastPitch and Tacotron 2 figures are not strictly comparable), the first"
    echo "$TP_SKIP steps left out; the V100 figures are the seeds' (one V100 16 GB, AMP, LJSpeech)."
    (( CPU_MODE )) && echo "CPU mode: demo sizes, bf16 autocast, tiny batches: the ratios mean nothing here."
    echo
    logs=()
    for model in Tacotron2 WaveGlow FastPitch; do
        lower=$(echo "$model" | tr 'A-Z' 'a-z')
        logs+=("$model=$R/throughput/$lower/nvlog_$lower.json")
    done
    "$PYTHON" scripts/gpu_tables.py training "${logs[@]}" --skip "$TP_SKIP" || true
    echo
    echo "## python -m benchmarks.speed $SPEED_ARGS (last lines of its log)"
    echo
    echo '```'
    tail -n 25 "$R/logs/h_speed.log" 2> /dev/null || echo "(no log)"
    echo '```'
} > "$SUMMARY" 2>&1
sed -n '/^## Inference latency/,/^## python -m benchmarks.speed/p' "$SUMMARY" | sed '$d' > "$R/tables/tables.md"

failed=$(grep -l $'^FAIL\t' "$R"/status/*.status 2> /dev/null | wc -l)
total=$(( $(date +%s) - START ))
echo "Total: $total s; $failed step(s) failed." >> "$SUMMARY"
say ""
cat "$SUMMARY" | tee -a "$MAINLOG"

if [[ -n "${OUT:-}" ]]; then
    mkdir -p "$OUT"
    cp "$SUMMARY" "$OUT/summary.md"
    cp "$R/tables/tables.md" "$OUT/tables.md"
    [[ -f "$R/tables/speed.json" ]] && cp "$R/tables/speed.json" "$OUT/speed.json"
    tar -czf "$OUT/gpu_check_logs.tar.gz" --exclude='*.pt' --exclude='*.wav' -C "$R" logs status \
        $(cd "$R" && ls -d latency throughput train/*/*/nvlog*.json 2> /dev/null) 2> /dev/null
    cp "$MAINLOG" "$OUT/gpu_check.log"
    say "copied the summary, the tables, the logs and the console log to $OUT"
fi
(( failed == 0 ))
