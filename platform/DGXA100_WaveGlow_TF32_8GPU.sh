#!/usr/bin/env bash
# WaveGlow on a DGX A100: 8 GPU(s), TF32. Extra arguments go to train.py.
AMP=false NUM_GPUS=8 exec bash "$(dirname "$0")/../scripts/train_waveglow.sh" "$@"
