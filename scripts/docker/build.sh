#!/usr/bin/env bash
# Builds the training/inference image from the repository root; extra arguments go to docker build.
set -euo pipefail
cd "$(dirname "$0")/../.."
docker build --rm -t "${IMAGE:-tts-recipe:latest}" "$@" .   # e.g. --build-arg FROM_IMAGE_NAME=nvcr.io/nvidia/pytorch:24.10-py3
