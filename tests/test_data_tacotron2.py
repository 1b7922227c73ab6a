"""Tacotron 2 data: mels computed or loaded, the sorted and padded batch with its gate targets, errors by line."""
import argparse

import pytest
import torch

import models
from common.audio import load_wav
from common.data_args import add_audio_args, add_data_args, add_text_args, stft_kwargs
from common.filelist import FilelistError
from common.stft import TacotronSTFT, mel_from_audio
from common.text import text_to_sequence
from tacotron2.data_function import TextMelCollate, batch_to_device, get_collate_fn, get_dataset
from tests.tiny_configs import tiny_args, tiny_model


def train_args(dataset_path, *flags):
    parser = add_text_args(add_audio_args(argparse.ArgumentParser()))
    add_data_args(parser)
    parser.add_argument('--n-frames-per-step', type=int, default=1)
    return parser.parse_args(['-d', str(dataset_path), '--training-files', 'unused', '--validation-files', 'unused',
                              *flags])


def train_filelist(corpus, kind='audio'):
    return corpus / 'filelists' / f'espeak_{kind}_text_train_filelist.txt'


def test_items_are_text_ids_and_the_mel_of_the_wav(corpus_dir):
    args = train_args(corpus_dir)
    dataset = get_dataset(args, train_filelist(corpus_dir))
    stft = TacotronSTFT(**stft_kwargs(args))
    lines = train_filelist(corpus_dir).read_text().splitlines()
    assert len(dataset) == len(lines)
    for (text, mel), line in zip(dataset, lines):
        wav, transcript = line.split('|')
        assert text.tolist() == text_to_sequence(transcript, ['english_cleaners'])
        audio, _ = load_wav(corpus_dir / wav, args.sampling_rate)
        assert mel.shape == (80, audio.numel() // args.hop_length + 1)
        torch.testing.assert_close(mel, mel_from_audio(stft, audio))


def test_mels_from_disk_match_the_computed_ones(prepared_corpus):
    computed = get_dataset(train_args(prepared_corpus), train_filelist(prepared_corpus))
    loaded = get_dataset(train_args(prepared_corpus, '--load-mel-from-disk'), train_filelist(prepared_corpus, 'mel'))
    assert len(loaded) == len(computed)
    for (text, mel), (text_disk, mel_disk) in zip(computed, loaded):
        assert torch.equal(text, text_disk)
        torch.testing.assert_close(mel_disk, mel)


def test_collate_sorts_by_text_length_pads_and_sets_gate_targets():
    lengths = [(3, 7), (5, 4), (4, 6)]  # (symbols, frames)
    batch = [(torch.arange(1, s + 1), torch.full((2, f), float(i + 1))) for i, (s, f) in enumerate(lengths)]
    for frames_per_step, width in ((1, 7), (3, 9)):
        text, input_lengths, mel, gate, output_lengths = TextMelCollate(frames_per_step)(batch)
        assert input_lengths.tolist() == [5, 4, 3] and output_lengths.tolist() == [4, 6, 7]
        assert text.shape == (3, 5) and mel.shape == (3, 2, width) and gate.shape == (3, width)
        for row, item in enumerate([1, 2, 0]):
            symbols, frames = lengths[item]
            assert text[row, :symbols].tolist() == list(range(1, symbols + 1)) and not text[row, symbols:].any()
            assert (mel[row, :, :frames] == item + 1).all() and not mel[row, :, frames:].any()
            assert gate[row].tolist() == [0.0] * (frames - 1) + [1.0] * (width - frames + 1)


def test_batch_runs_through_the_model(corpus_dir):
    args = train_args(corpus_dir)
    dataset = get_dataset(args, train_filelist(corpus_dir))
    loader = torch.utils.data.DataLoader(dataset, batch_size=3, collate_fn=get_collate_fn(args))
    x, y, num_items = batch_to_device(next(iter(loader)), torch.device('cpu'))
    text, input_lengths, mel, max_len, output_lengths = x
    assert max_len == int(input_lengths.max()) == text.size(1)
    assert y[0] is mel and y[1].shape == (3, mel.size(2))
    assert num_items == output_lengths.sum() == sum(dataset[i][1].size(1) for i in range(3))
    model = tiny_model('Tacotron2')
    assert tiny_args('Tacotron2').n_frames_per_step == args.n_frames_per_step
    mel_out, _, gate_out, alignments = model(x)
    assert mel_out.shape == mel.shape and gate_out.shape == y[1].shape
    assert alignments.shape == (3, mel.size(2), text.size(1))


def test_errors_name_the_filelist_line(corpus_dir, tmp_path):
    filelist = tmp_path / 'list.txt'
    wav = train_filelist(corpus_dir).read_text().splitlines()[0].split('|')[0]
    filelist.write_text(f'{wav}|fine\n{wav}|###\nwavs/absent.wav|hello\n')
    dataset = get_dataset(train_args(corpus_dir), filelist)
    dataset[0]
    with pytest.warns(UserWarning), pytest.raises(FilelistError, match=f'^{filelist}:2: transcript .* no known symbol'):
        dataset[1]
    with pytest.raises(FilelistError, match=f'^{filelist}:3: .*absent.wav: no such file'):
        dataset[2]

    mel_list = tmp_path / 'mels.txt'
    torch.save(torch.zeros(3, 5), tmp_path / 'wrong.pt')
    mel_list.write_text('wrong.pt|hello\nabsent.pt|hello\n')
    dataset = get_dataset(train_args(tmp_path, '--load-mel-from-disk'), mel_list)
    with pytest.raises(FilelistError, match=rf'^{mel_list}:1: .*wrong.pt: expected a float mel of shape \(80, '):
        dataset[0]
    with pytest.raises(FilelistError, match=f'^{mel_list}:2: .*absent.pt: no such mel file'):
        dataset[1]


def test_filelist_format_errors(tmp_path):
    filelist = tmp_path / 'list.txt'
    for content, problem in (('a.wav|x|y|z\n', 'has 4 columns'), ('a.wav|\n', 'empty transcript'),
                             ('a.wav|x|-1\n', 'negative'), ('a.wav|x|one\n', 'not an integer'),
                             ('a.wav|x|1\nb.wav|y\n', 'speaker column'), ('\n\n', 'has no entries')):
        filelist.write_text(content)
        with pytest.raises(FilelistError, match=f'^{filelist}(:[12])?: .*{problem}'):
            get_dataset(train_args(tmp_path), filelist)
    filelist.write_bytes(b'a.wav|caf\xe9\n')  # Latin-1
    with pytest.raises(FilelistError, match=f'^{filelist}: not UTF-8 text'):
        get_dataset(train_args(tmp_path), filelist)
    with pytest.raises(FilelistError, match='no such filelist'):
        get_dataset(train_args(tmp_path), tmp_path / 'absent.txt')


def test_every_model_has_its_data_functions():
    for name, spec in models.MODELS.items():
        for function in (spec.get_dataset, spec.get_collate_fn, spec.batch_to_device):
            assert function.__module__ == f'{name.lower()}.data_function', (name, function)
    with pytest.raises(ValueError, match='unknown model'):
        models.model_spec('MelGAN')
