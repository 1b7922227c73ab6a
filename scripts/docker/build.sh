#!/usr/bin/env bash
# Builds the training/inference image from the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
docker build --rm -t "${IMAGE:-tts-recipe:latest}" .
