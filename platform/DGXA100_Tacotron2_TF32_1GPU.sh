#!/usr/bin/env bash
# Tacotron2 on a DGX A100: 1 GPU(s), TF32. Extra arguments go to train.py.
AMP=false NUM_GPUS=1 exec bash "$(dirname "$0")/../scripts/train_tacotron2.sh" "$@"
