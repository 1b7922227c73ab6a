"""FastPitch 1.0 training data: symbol ids with per-symbol durations and pitch, and the mel they add up to.

Filelist lines: `mels/ID.pt|durations/ID.pt|pitch_char/ID.pt|text[|speaker]`, paths relative to --dataset-path, as
written by prepare_dataset.py. Pitch is stored in Hz (0 = unvoiced) and normalised here with the mean and std of
--pitch-mean-std-file (voiced symbols only; unvoiced stay 0); without that file it stays in Hz. The speaker column
is optional; the collated batch carries the ids (int64, or None without the column) after the model's inputs.
"""
from pathlib import Path

import torch
from torch.utils.data import Dataset

from common.filelist import entry_text_ids, load_entry_tensor, load_mel_file, read_filelist
from fastpitch.pitch import normalize_pitch, read_pitch_stats


def load_symbol_values(entry, path, n_symbols, what, dtype):
    """A saved 1-D tensor with one value per symbol (durations or pitch)."""
    values = load_entry_tensor(entry, path, what)
    if values.dim() != 1:
        raise entry.error(f'{path}: expected a 1-D tensor of {what}, got shape {tuple(values.shape)}')
    if values.numel() != n_symbols:
        raise entry.error(f'{path}: has {values.numel()} {what} values but the transcript has {n_symbols} symbols')
    return values.to(dtype)


class TextMelDurPitchDataset(Dataset):
    """Items (text (T_in,) int64, mel (n_mel, T_out), durations (T_in,) int64, pitch (T_in,) float32, speaker)."""

    def __init__(self, dataset_path, filelist, text_cleaners, n_mel_channels, pitch_mean_std=None):
        self.dataset_path = Path(dataset_path)
        self.entries = read_filelist(filelist, n_path_columns=3)
        self.text_cleaners = text_cleaners
        self.n_mel_channels = n_mel_channels
        self.pitch_mean_std = pitch_mean_std

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        mel_path, durations_path, pitch_path = (self.dataset_path / path for path in entry.paths)
        text = entry_text_ids(entry, self.text_cleaners)
        mel = load_mel_file(entry, mel_path, self.n_mel_channels)
        durations = load_symbol_values(entry, durations_path, text.numel(), 'durations', torch.long)
        if int(durations.sum()) != mel.size(1) or int(durations.min()) < 0:
            raise entry.error(f'{durations_path}: durations sum to {int(durations.sum())} frames but the mel has '
                              f'{mel.size(1)} (or some are negative)')
        pitch = load_symbol_values(entry, pitch_path, text.numel(), 'pitch', torch.float32)
        if self.pitch_mean_std is not None:
            pitch = normalize_pitch(pitch, *self.pitch_mean_std)
        return text, mel, durations, pitch, entry.speaker


def pad_rows(rows, order, width, dtype):
    """Stack 1-D tensors in `order` into a zero-padded (len(rows), width) tensor."""
    padded = torch.zeros(len(rows), width, dtype=dtype)
    for row, item in enumerate(order):
        padded[row, :rows[item].numel()] = rows[item]
    return padded


def collate_text_mel_dur_pitch(batch):
    """Sort by text length (descending) and zero-pad -> (text, input_lengths, mel (B, n_mel, T_out),
    output_lengths, durations, duration_lengths, pitch, speakers (B,) int64 or None)."""
    texts, mels, durations, pitches, speakers = zip(*batch)
    input_lengths, order = torch.sort(torch.tensor([text.numel() for text in texts]), descending=True, stable=True)
    order = order.tolist()
    width = int(input_lengths[0])
    mel_padded = torch.zeros(len(batch), mels[0].size(0), max(mel.size(1) for mel in mels))
    for row, item in enumerate(order):
        mel_padded[row, :, :mels[item].size(1)] = mels[item]
    output_lengths = torch.tensor([mels[item].size(1) for item in order], dtype=torch.long)
    speaker_ids = None if speakers[0] is None else torch.tensor([speakers[item] for item in order], dtype=torch.long)
    return (pad_rows(texts, order, width, torch.long), input_lengths, mel_padded, output_lengths,
            pad_rows(durations, order, width, torch.long), input_lengths.clone(),
            pad_rows(pitches, order, width, torch.float32), speaker_ids)


def get_dataset(args, filelist_path):
    pitch_mean_std = read_pitch_stats(args.pitch_mean_std_file) if args.pitch_mean_std_file else None
    return TextMelDurPitchDataset(args.dataset_path, filelist_path, args.text_cleaners, args.n_mel_channels,
                                  pitch_mean_std)


def get_collate_fn(args):
    return collate_text_mel_dur_pitch


def batch_to_device(batch, device):
    """-> (x, y, num_items): x = [text, input_lengths, mel, output_lengths, durations, duration_lengths, pitch],
    y = [mel, durations, duration_lengths, pitch], num_items = mel frames. FastPitch 1.0 has no speaker
    embedding, so the speaker ids stay in the batch only."""
    x = [tensor.to(device, non_blocking=True) for tensor in batch[:7]]
    _, _, mel, output_lengths, durations, duration_lengths, pitch = x
    return x, [mel, durations, duration_lengths, pitch], output_lengths.sum()
