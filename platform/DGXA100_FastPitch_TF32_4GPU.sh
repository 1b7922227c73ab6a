#!/usr/bin/env bash
# FastPitch on a DGX A100: 4 GPU(s), TF32. Extra arguments go to train.py.
AMP=false NUM_GPUS=4 exec bash "$(dirname "$0")/../scripts/train_fastpitch.sh" "$@"
