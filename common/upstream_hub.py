"""What NVIDIA's torch.hub entry points (DeepLearningExamples' hubconf) do per model, as data a model package
declares and hubconf.py follows: where `pretrained=True` downloads from (per model_math), what the entry point
returns (the model alone, or with its train setup, and a vocoder's denoiser), and whether model_math='fp16' halves
the model (FastPitch's and HiFi-GAN's do; Tacotron 2's and WaveGlow's only pick the fp16-trained file); and their
text utilities (nvidia_tts_utils, nvidia_textprocessing_utils)."""
from dataclasses import dataclass
from typing import Callable

import torch

from common.data_args import DEFAULT_TEXT_CLEANERS
from common.text.processing import Tacotron2TextProcessing, TextProcessing
from common.text_batching import pad_sequences

NGC = 'https://api.ngc.nvidia.com/v2/models/nvidia'
MODEL_MATHS = ('fp32', 'fp16')


def model_alone(model, train_setup):
    return model


@dataclass(frozen=True)
class HubEntry:
    checkpoint_urls: dict                     # model_math -> URL of NVIDIA's published checkpoint
    returns: Callable = model_alone           # (model, train setup dict) -> what the entry point returns
    halve_for_fp16: bool = False


def _device(cpu_run):
    """NVIDIA's utilities put their tensors on the GPU unless cpu_run; where there is no GPU, on the CPU."""
    return torch.device('cpu' if cpu_run or not torch.cuda.is_available() else 'cuda')


def _length_sorted(texts, processing):
    sequences = sorted((processing.encode_text(text) for text in texts), key=len, reverse=True)
    return pad_sequences(sequences)


class Tacotron2TextUtils:
    """nvidia_tts_utils(): english_cleaners symbol ids, longest first, padded with 0."""

    def __init__(self):
        self.processing = Tacotron2TextProcessing(DEFAULT_TEXT_CLEANERS)

    def prepare_input_sequence(self, texts, cpu_run=False):
        """-> (ids (B, T) int64, lengths (B,) int64), sorted by decreasing length, on the GPU unless cpu_run."""
        padded, lengths = _length_sorted(texts, self.processing)
        device = _device(cpu_run)
        return padded.to(device), lengths.to(device)


class FastPitchTextUtils:
    """nvidia_textprocessing_utils(): FastPitch 1.1's front end (english_cleaners_v2, every word as ARPAbet)."""

    def __init__(self, cmudict_path=None, heteronyms_path=None):
        self.processing = TextProcessing(['english_cleaners_v2'], p_arpabet=1.0, cmudict=cmudict_path,
                                         heteronyms=heteronyms_path)

    def prepare_input_sequence(self, texts, batch_size=1, device='cpu'):
        """-> [{'text': ids (b, T) padded with 0, 'text_lens': (b,)}] of batch_size texts each, longest first."""
        padded, lengths = _length_sorted(texts, self.processing)
        return [{'text': padded[start:start + batch_size, :int(lengths[start])].to(device),
                 'text_lens': lengths[start:start + batch_size].to(device)}
                for start in range(0, len(texts), batch_size)]
