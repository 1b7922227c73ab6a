#!/usr/bin/env bash
# Starts a shell in the image with every GPU, the repository mounted at /workspace/tts, and shared memory for loaders.
set -euo pipefail
cd "$(dirname "$0")/../.."
docker run --gpus all --init -it --rm --ipc=host \
    -v "$PWD":/workspace/tts -w /workspace/tts \
    "${IMAGE:-tts-recipe:latest}" bash
