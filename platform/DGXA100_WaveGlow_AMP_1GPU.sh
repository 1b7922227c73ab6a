#!/usr/bin/env bash
# WaveGlow on a DGX A100: 1 GPU(s), mixed precision (fp16 autocast). Extra arguments go to train.py.
AMP=true NUM_GPUS=1 exec bash "$(dirname "$0")/../scripts/train_waveglow.sh" "$@"
