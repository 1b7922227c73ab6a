# NGC PyTorch image 25.10 (PyTorch 2.9, CUDA 13.0, Python 3.12): CUDA, cuDNN, NCCL and a matching torch build come
# with it; we add our dependencies only. Any image from 24.10 (PyTorch 2.5, Python 3.10) on works: pass
# --build-arg FROM_IMAGE_NAME=... to scripts/docker/build.sh.
ARG FROM_IMAGE_NAME=nvcr.io/nvidia/pytorch:25.10-py3
FROM ${FROM_IMAGE_NAME}

# eSpeak NG speaks the embedded demo corpus.
RUN apt-get update && apt-get install -y --no-install-recommends libespeak-ng1 && rm -rf /var/lib/apt/lists/*

WORKDIR /workspace/tts
COPY requirements.txt requirements-test.txt ./
RUN pip install --no-cache-dir -r requirements.txt -r requirements-test.txt
COPY . .
