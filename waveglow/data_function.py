"""WaveGlow training data: a random `segment_length` window of each clip and the log-mel of that window.

Filelist lines are `wavs/ID.wav|text` (the text is not used), paths relative to --dataset-path. Clips shorter than
the window are zero-padded at the end. The window start is drawn from torch's generator, which train.py seeds for
each item by (seed, epoch, item index) (common/training_state.SeededItems): the same windows with any number of
data-loader workers and after a resume mid-epoch.
"""
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.data import Dataset
from torch.utils.data.dataloader import default_collate

from common.audio import AudioError, load_wav
from common.data_args import stft_kwargs
from common.filelist import read_filelist
from common.stft import TacotronSTFT, mel_from_audio


def random_window(audio, segment_length):
    """A random segment_length slice of audio (T,), or the whole clip zero-padded at the end if shorter."""
    if audio.numel() < segment_length:
        return F.pad(audio, (0, segment_length - audio.numel()))
    start = int(torch.randint(0, audio.numel() - segment_length + 1, ()))
    return audio[start:start + segment_length]


class AudioSegmentDataset(Dataset):
    """Items (mel (n_mel, segment_length // hop + 1), audio (segment_length,)), a fresh window per access."""

    def __init__(self, dataset_path, filelist, segment_length, stft):
        if segment_length <= 0:
            raise ValueError(f'--segment-length must be positive, got {segment_length}')
        self.dataset_path = Path(dataset_path)
        self.entries = read_filelist(filelist, n_path_columns=1)
        self.segment_length = segment_length
        self.stft = stft

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        try:
            audio, _ = load_wav(self.dataset_path / entry.paths[0], self.stft.sampling_rate)
        except AudioError as error:
            raise entry.error(str(error)) from None
        audio = random_window(audio, self.segment_length)
        return mel_from_audio(self.stft, audio), audio


def get_dataset(args, filelist_path):
    return AudioSegmentDataset(args.dataset_path, filelist_path, args.segment_length,
                               TacotronSTFT(**stft_kwargs(args)))


def get_collate_fn(args):
    """All items have the same shapes: plain stacking."""
    return default_collate


def batch_to_device(batch, device):
    """-> (x, y, num_items): x = (mel, audio), y = audio, num_items = audio samples (0-d tensor)."""
    mel, audio = (tensor.to(device, non_blocking=True) for tensor in batch)
    return (mel, audio), audio, torch.tensor(audio.numel(), device=device)
