# NGC PyTorch image: CUDA, cuDNN, NCCL and a matching torch build come with it; we add our dependencies only.
ARG FROM_IMAGE_NAME=nvcr.io/nvidia/pytorch:24.10-py3
FROM ${FROM_IMAGE_NAME}

# eSpeak NG speaks the embedded demo corpus.
RUN apt-get update && apt-get install -y --no-install-recommends libespeak-ng1 && rm -rf /var/lib/apt/lists/*

WORKDIR /workspace/tts
COPY requirements.txt requirements-test.txt ./
RUN pip install --no-cache-dir -r requirements.txt -r requirements-test.txt
COPY . .
