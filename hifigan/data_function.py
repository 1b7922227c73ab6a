"""HiFi-GAN training data: a random --segment-size window of each clip's audio, its input mel and its loss mel.

Filelists (paths relative to --dataset-path):
  * training from audio (default): `wavs/ID.wav|text`, the audio filelists of every model (the text is not used).
    Each clip is peak-normalised to 0.95, as the reference does, and both mels are computed from the window.
  * --fine-tuning: `wavs/ID.wav|MELS/ID.pt|text`, where MELS/ID.pt is a (n_mel, frames) float mel that a mel
    generator made for that clip with its frames aligned to the audio (e.g. FastPitch run with the clip's own
    durations; a mel with one frame more, as TacotronSTFT frames a clip, fits too). The window is drawn in mel
    frames and the audio window under it is taken unnormalised, as the generator's mels came from such audio; the
    loss mel is computed from that audio.
Windows past the end of a clip are padded: audio with zeros, a read mel with the log-mel of silence (the reference
pads it with zeros, a loud value in log-mel units). Window starts are drawn from torch's generator, which train.py
seeds per item by (seed, epoch, item index) (common/training_state.SeededItems).
"""
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from torch.utils.data.dataloader import default_collate

from common.audio import AudioError, load_wav
from common.filelist import load_mel_file, read_filelist
from common.stft import LOG_CLIP

from .mel import mel_transforms

PEAK_LEVEL = 0.95  # the reference scales every training clip to this peak
SILENT_MEL = math.log(LOG_CLIP)


def peak_normalized(audio):
    peak = audio.abs().max()
    return audio / peak * PEAK_LEVEL if peak > 0 else audio


def random_start(length, window):
    """A uniformly drawn start of a `window`-long slice of `length` items (0 when it does not fit)."""
    return int(torch.randint(0, length - window + 1, ())) if length > window else 0


def window(signal, start, length, pad_value=0.0):
    """signal[..., start:start + length], padded with pad_value past its end."""
    piece = signal[..., start:start + length]
    return F.pad(piece, (0, length - piece.size(-1)), value=pad_value)


class AudioMelDataset(Dataset):
    """Items (input mel (n_mel, frames), audio (1, segment_size), loss mel (n_mel, frames)), frames =
    segment_size // hop; a fresh window per access."""

    def __init__(self, dataset_path, filelist, segment_size, sampling_rate, input_mel, loss_mel, fine_tuning):
        hop = input_mel.hop_length
        if segment_size % hop:
            raise ValueError(f'--segment-size {segment_size} must be a multiple of --hop-length {hop}')
        self.dataset_path = Path(dataset_path)
        self.entries = read_filelist(filelist, n_path_columns=2 if fine_tuning else 1)
        self.segment_size, self.hop, self.sampling_rate = segment_size, hop, sampling_rate
        self.input_mel, self.loss_mel = input_mel, loss_mel
        self.fine_tuning = fine_tuning
        self.n_mel_channels = input_mel.mel_basis.size(0)

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        try:
            audio, _ = load_wav(self.dataset_path / entry.paths[0], self.sampling_rate)
        except AudioError as error:
            raise entry.error(str(error)) from None
        with torch.no_grad():
            if self.fine_tuning:
                mel, audio = self._generated_mel_window(entry, audio)
            else:
                audio = window(peak_normalized(audio), random_start(audio.numel(), self.segment_size),
                               self.segment_size)
                mel = self.input_mel(audio[None])[0]
            return mel, audio[None], self.loss_mel(audio[None])[0]

    def _generated_mel_window(self, entry, audio):
        mel = load_mel_file(entry, self.dataset_path / entry.paths[1], self.n_mel_channels)
        frames = self.segment_size // self.hop
        start = random_start(mel.size(1), frames)
        return (window(mel, start, frames, pad_value=SILENT_MEL),
                window(audio, start * self.hop, self.segment_size))


def get_dataset(args, filelist_path):
    input_mel, loss_mel = mel_transforms(args)
    return AudioMelDataset(args.dataset_path, filelist_path, args.segment_size, args.sampling_rate, input_mel,
                           loss_mel, args.fine_tuning)


def get_collate_fn(args):
    """All items have the same shapes: plain stacking."""
    return default_collate


def batch_to_device(batch, device):
    """-> (x, y, num_items): x = input mel, y = (audio (B, 1, T), loss mel), num_items = audio samples (0-d)."""
    mel, audio, loss_mel = (tensor.to(device, non_blocking=True) for tensor in batch)
    return mel, (audio, loss_mel), torch.tensor(audio.numel(), device=device)
