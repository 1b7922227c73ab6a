"""Tacotron 2 training data: (symbol ids, log-mel) pairs from a filelist, sorted and padded into batches.

Filelist lines are `wavs/ID.wav|text` (the mel is computed on the fly) or, with --load-mel-from-disk,
`mels/ID.pt|text` (a saved (n_mel, frames) tensor, see prepare_dataset.py); paths are relative to --dataset-path.
"""
from pathlib import Path

import torch
from torch.utils.data import Dataset

from common.audio import AudioError, load_wav
from common.data_args import stft_kwargs
from common.filelist import entry_text_ids, load_mel_file, read_filelist
from common.stft import TacotronSTFT, mel_from_audio


class TextMelDataset(Dataset):
    """Items (text ids (T_in,) int64, mel (n_mel, T_out) float32), read or computed per access."""

    def __init__(self, dataset_path, filelist, text_cleaners, stft, load_mel_from_disk):
        self.dataset_path = Path(dataset_path)
        self.entries = read_filelist(filelist, n_path_columns=1)
        self.text_cleaners = text_cleaners
        self.stft = stft
        self.load_mel_from_disk = load_mel_from_disk

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        return entry_text_ids(entry, self.text_cleaners), self.mel(entry)

    def mel(self, entry):
        path = self.dataset_path / entry.paths[0]
        if self.load_mel_from_disk:
            return load_mel_file(entry, path, self.stft.n_mel_channels)
        try:
            audio, _ = load_wav(path, self.stft.sampling_rate)
        except AudioError as error:
            raise entry.error(str(error)) from None
        return mel_from_audio(self.stft, audio)


class TextMelCollate:
    """Sort a list of (text, mel) by text length (descending, as the packed encoder LSTM needs) and zero-pad.

    Returns (text_padded (B, T_in) int64, input_lengths (B,), mel_padded (B, n_mel, T_out), gate_padded (B, T_out),
    output_lengths (B,)); T_out is rounded up to a multiple of n_frames_per_step and the gate target is 1 from each
    clip's last frame on (padding included).
    """

    def __init__(self, n_frames_per_step):
        self.n_frames_per_step = n_frames_per_step

    def __call__(self, batch):
        input_lengths, order = torch.sort(torch.tensor([len(text) for text, _ in batch]), descending=True,
                                          stable=True)
        n_mel = batch[0][1].size(0)
        max_frames = max(mel.size(1) for _, mel in batch)
        max_frames = -(-max_frames // self.n_frames_per_step) * self.n_frames_per_step

        text_padded = torch.zeros(len(batch), int(input_lengths[0]), dtype=torch.long)
        mel_padded = torch.zeros(len(batch), n_mel, max_frames)
        gate_padded = torch.zeros(len(batch), max_frames)
        output_lengths = torch.zeros(len(batch), dtype=torch.long)
        for row, item in enumerate(order.tolist()):
            text, mel = batch[item]
            text_padded[row, :text.numel()] = text
            mel_padded[row, :, :mel.size(1)] = mel
            gate_padded[row, mel.size(1) - 1:] = 1
            output_lengths[row] = mel.size(1)
        return text_padded, input_lengths, mel_padded, gate_padded, output_lengths


def get_dataset(args, filelist_path):
    return TextMelDataset(args.dataset_path, filelist_path, args.text_cleaners, TacotronSTFT(**stft_kwargs(args)),
                          args.load_mel_from_disk)


def get_collate_fn(args):
    return TextMelCollate(args.n_frames_per_step)


def batch_to_device(batch, device):
    """-> (x, y, num_items): x = the model's inputs, y = the loss targets, num_items = mel frames (0-d tensor)."""
    max_len = int(batch[1].max())  # read on the CPU side: no device sync
    text_padded, input_lengths, mel_padded, gate_padded, output_lengths = (
        tensor.to(device, non_blocking=True) for tensor in batch)
    x = (text_padded, input_lengths, mel_padded, max_len, output_lengths)
    y = (mel_padded, gate_padded)
    return x, y, output_lengths.sum()
