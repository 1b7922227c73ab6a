"""FastPitch training data, per version.

1.0: symbol ids with per-symbol durations and pitch, and the mel they add up to. Filelist lines
`mels/ID.pt|durations/ID.pt|pitch_char/ID.pt|text[|speaker]`. Pitch is stored in Hz (0 = unvoiced) and normalised
here with the mean and std of --pitch-mean-std-file (voiced symbols only; unvoiced stay 0); without that file it
stays in Hz.

1.1 (it learns its durations): symbol ids, the mel, and F0 per mel frame. Filelist lines
`mels/ID.pt|pitch/ID.pt|text[|speaker]` (prepare_dataset.py --extract-mels --extract-frame-pitch); pitch per frame
is normalised as above, energy is each frame's L2 norm over the mel bands, and the aligner's beta-binomial prior
is made here (fastpitch/attention_prior.py), in the data-loader workers. The text goes through 1.1's front end
(common/text/processing.py) with --p-arpabet.

Paths are relative to --dataset-path, as written by prepare_dataset.py. The speaker column is optional; the
collated batch carries the ids (int64, or None without the column).
"""
import random
from pathlib import Path
from typing import NamedTuple, Optional

import torch
from torch.utils.data import Dataset

from common.filelist import (FilelistError, encoded_text_ids, entry_text_ids, load_entry_tensor, load_mel_file,
                             read_filelist)
from common.text.processing import text_processing
from fastpitch.attention_prior import interpolated_prior
from fastpitch.pitch import normalize_pitch, read_pitch_stats

# The path columns of each version's filelist lines, as prepare_dataset.py names their folders.
FILELIST_COLUMNS = {'1.0': ('mels', 'durations', 'pitch_char'), '1.1': ('mels', 'pitch')}


def read_fastpitch_filelist(filelist, version):
    """The filelist's entries for FastPitch `version`; a filelist written for the other version gets an error that
    says so (its lines would otherwise fail with a puzzling column count or speaker id)."""
    columns = FILELIST_COLUMNS[version]
    try:
        return read_filelist(filelist, n_path_columns=len(columns))
    except FilelistError:
        other = next(name for name in FILELIST_COLUMNS if name != version)
        if _written_for(filelist, FILELIST_COLUMNS[other]):
            raise FilelistError(
                f'{filelist}: its lines ({"|".join(FILELIST_COLUMNS[other])}|text) are FastPitch {other} data, but '
                f'this is FastPitch {version}, which reads {"|".join(columns)}|text lines (--fastpitch-version '
                f'chooses; prepare_dataset.py writes both)') from None
        raise


def _written_for(filelist, columns):
    try:
        entries = read_filelist(filelist, n_path_columns=len(columns))
    except FilelistError:
        return False
    return all(Path(path).parent.name == folder for path, folder in zip(entries[0].paths, columns))


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
        self.entries = read_fastpitch_filelist(filelist, '1.0')
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


class TextMelPitchDataset(Dataset):
    """FastPitch 1.1 items (text (T_in,) int64, mel (n_mel, T), pitch (1, T) float32, energy (T,), prior (T, T_in),
    speaker, mel path)."""

    def __init__(self, dataset_path, filelist, processing, n_mel_channels, pitch_mean_std=None):
        self.dataset_path = Path(dataset_path)
        self.entries = read_fastpitch_filelist(filelist, '1.1')
        self.processing = processing
        self.n_mel_channels = n_mel_channels
        self.pitch_mean_std = pitch_mean_std

    def __len__(self):
        return len(self.entries)

    def text_ids(self, entry):
        # with 0 < --p-arpabet < 1 the words spoken as phonemes are drawn per item: from torch's seed, which
        # train.py sets per (seed, epoch, item) for training items
        rng = random.Random(torch.initial_seed())
        return encoded_text_ids(entry, lambda text: self.processing.encode_text(text, rng=rng))

    def __getitem__(self, index):
        entry = self.entries[index]
        mel_path, pitch_path = (self.dataset_path / path for path in entry.paths)
        text = self.text_ids(entry)
        mel = load_mel_file(entry, mel_path, self.n_mel_channels)
        pitch = load_entry_tensor(entry, pitch_path, 'pitch')
        if pitch.dim() != 1 or pitch.numel() != mel.size(1):
            raise entry.error(f'{pitch_path}: expected F0 per mel frame ({mel.size(1)} values), got shape '
                              f'{tuple(pitch.shape)} (per-symbol pitch_char files are FastPitch 1.0 data)')
        pitch = pitch.float()
        if self.pitch_mean_std is not None:
            pitch = normalize_pitch(pitch, *self.pitch_mean_std)
        energy = torch.linalg.vector_norm(mel, dim=0)
        prior = interpolated_prior(mel.size(1), text.numel())
        return text, mel, pitch[None], energy, prior, entry.speaker, str(mel_path)


class FastPitch11Batch(NamedTuple):
    """A collated 1.1 batch, in FastPitch11.forward's input order."""
    text: torch.Tensor             # (B, T_in) int64, zero-padded, longest text first
    input_lengths: torch.Tensor    # (B,)
    mel: torch.Tensor              # (B, n_mel, T_out) zero-padded
    output_lengths: torch.Tensor   # (B,)
    pitch: torch.Tensor            # (B, 1, T_out)
    energy: torch.Tensor           # (B, T_out)
    speaker: Optional[torch.Tensor]  # (B,) int64, None without a speaker column
    attn_prior: torch.Tensor       # (B, T_out, T_in) zero-padded
    audiopaths: list


def collate_text_mel_pitch(batch):
    """Sort by text length (descending) and zero-pad -> FastPitch11Batch."""
    texts, mels, pitches, energies, priors, speakers, paths = zip(*batch)
    input_lengths, order = torch.sort(torch.tensor([text.numel() for text in texts]), descending=True, stable=True)
    order = order.tolist()
    n_frames = max(mel.size(1) for mel in mels)
    mel_padded = torch.zeros(len(batch), mels[0].size(0), n_frames)
    pitch_padded = torch.zeros(len(batch), 1, n_frames)
    prior_padded = torch.zeros(len(batch), n_frames, int(input_lengths[0]))
    for row, item in enumerate(order):
        mel_padded[row, :, :mels[item].size(1)] = mels[item]
        pitch_padded[row, :, :pitches[item].size(1)] = pitches[item]
        prior_padded[row, :priors[item].size(0), :priors[item].size(1)] = priors[item]
    output_lengths = torch.tensor([mels[item].size(1) for item in order], dtype=torch.long)
    speaker_ids = None if speakers[0] is None else torch.tensor([speakers[item] for item in order], dtype=torch.long)
    return FastPitch11Batch(pad_rows(texts, order, int(input_lengths[0]), torch.long), input_lengths, mel_padded,
                            output_lengths, pitch_padded, pad_rows(energies, order, n_frames, torch.float32),
                            speaker_ids, prior_padded, [paths[item] for item in order])


def text_processing_from_args(args):
    """1.1's front end from --text-cleaners, --p-arpabet, --cmudict-path and --heteronyms-path."""
    return text_processing(args.text_cleaners, args.p_arpabet, args.cmudict_path, args.heteronyms_path,
                           front_end='1.1')


def get_dataset(args, filelist_path):
    pitch_mean_std = read_pitch_stats(args.pitch_mean_std_file) if args.pitch_mean_std_file else None
    if args.fastpitch_version == '1.1':
        return TextMelPitchDataset(args.dataset_path, filelist_path, text_processing_from_args(args),
                                   args.n_mel_channels, pitch_mean_std)
    return TextMelDurPitchDataset(args.dataset_path, filelist_path, args.text_cleaners, args.n_mel_channels,
                                  pitch_mean_std)


def get_collate_fn(args):
    return collate_text_mel_pitch if args.fastpitch_version == '1.1' else collate_text_mel_dur_pitch


def batch_to_device(batch, device):
    """-> (x, y, num_items), num_items = mel frames.
    1.1: x = the FastPitch11Batch on the device (FastPitch11.forward's inputs), y = [mel, input_lengths,
    output_lengths]. 1.0: x = [text, input_lengths, mel, output_lengths, durations, duration_lengths, pitch],
    y = [mel, durations, duration_lengths, pitch]; FastPitch 1.0 has no speaker embedding, so the speaker ids stay
    in the batch only."""
    if isinstance(batch, FastPitch11Batch):
        x = [value.to(device, non_blocking=True) if torch.is_tensor(value) else value for value in batch]
        return x, [x[2], x[1], x[3]], x[3].sum()
    x = [tensor.to(device, non_blocking=True) for tensor in batch[:7]]
    _, _, mel, output_lengths, durations, duration_lengths, pitch = x
    return x, [mel, durations, duration_lengths, pitch], output_lengths.sum()
