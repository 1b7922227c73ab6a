#!/usr/bin/env bash
# WaveGlow on a DGX A100: 8 GPU(s), mixed precision (fp16 autocast). Extra arguments go to train.py.
AMP=true NUM_GPUS=8 exec bash "$(dirname "$0")/../scripts/train_waveglow.sh" "$@"
