"""FastPitch data: durations from eSpeak timings and Tacotron 2 attention, per-symbol pitch, normalisation, the
datasets of 1.0 and 1.1 and their batches, and the errors for inconsistent files or the other version's data."""
import argparse
import json
import math
import shutil

import pytest
import torch

from common.audio import load_wav, save_wav
import models
from common.corpus.timings import TimingsError
from common.data_args import add_audio_args, add_data_args, add_text_args
from common.filelist import FilelistError
from common.text import text_to_sequence
from fastpitch.data_function import batch_to_device, get_collate_fn, get_dataset
from fastpitch.durations import durations_from_alignment, durations_from_espeak, mel_frame_count
from fastpitch.pitch import (PitchStatsError, char_pitch, frame_pitch, normalize_pitch, read_pitch_stats,
                             write_pitch_stats)
from fastpitch.attention_prior import interpolated_prior
from tests.tiny_configs import tiny_model

HOP = 256
CLEANERS = ['english_cleaners']


def timings_of(corpus):
    return {path.stem: json.loads(path.read_text()) for path in sorted((corpus / 'timings').glob('*.json'))}


def espeak_durations(timings):
    return durations_from_espeak(timings, CLEANERS, mel_frame_count(timings['num_samples'], HOP), HOP)


# ---------------------------------------------------------------- durations

def test_espeak_durations_sum_to_the_mel_length_and_follow_the_words(corpus_dir):
    for clip_id, timings in timings_of(corpus_dir).items():
        durations = espeak_durations(timings)
        text = timings['text']
        assert durations.shape == (len(text_to_sequence(text, CLEANERS)),), clip_id
        assert int(durations.sum()) == mel_frame_count(timings['num_samples'], HOP) and durations.min() >= 0
        # Every word's letters get frames, and its first letter starts at the word event's frame (within one
        # frame of rounding); the text is clean, so character i is symbol i.
        starts = torch.cumsum(durations, 0) - durations
        for word in timings['words'][1:]:
            position = word['text_position']
            letters = durations[position:position + word['length']]
            assert letters.sum() > 0, (clip_id, text[position:position + word['length']])
            assert abs(int(starts[position]) - word['start_sample'] / HOP) <= 1, (clip_id, position)


def synthetic_timings(text, words, phonemes, num_samples):
    return {'text': text, 'num_samples': num_samples, 'sampling_rate': 22050,
            'words': [{'text_position': p, 'length': n, 'start_sample': s} for p, n, s in words],
            'phonemes': [{'name': name, 'start_sample': s} for name, s in phonemes]}


def test_espeak_pauses_go_to_spaces_and_punctuation():
    # "hi, yo." : frames 0-1 silence, 'hi' 2-9, pause 10-13, 'yo' 14-21, final pause 22-30 (31 frames).
    timings = synthetic_timings('hi, yo.', [(0, 2, 0), (4, 2, 14 * HOP)],
                                [('_', 0), ('h', 2 * HOP), ('i', 6 * HOP), ('_:', 10 * HOP), ('j', 14 * HOP),
                                 ('oU', 18 * HOP), ('_:', 22 * HOP)], 30 * HOP)
    durations = espeak_durations(timings)
    #                            h  i  ,  ' ' y  o  .
    assert durations.tolist() == [6, 4, 2, 2, 4, 4, 9]


def test_espeak_durations_reject_timings_outside_the_text():
    timings = synthetic_timings('hi', [(5, 2, 0)], [('h', 0)], 1000)
    with pytest.raises(TimingsError, match='outside the text'):
        espeak_durations(timings)


def test_alignment_durations_count_argmax_frames():
    alignment = torch.tensor([[.9, .1, 0], [.2, .7, .1], [.1, .8, .1], [0, .3, .7], [.1, 0, .0], [0, 0, 1]])
    assert durations_from_alignment(alignment, 3).tolist() == [2, 2, 2]
    assert durations_from_alignment(alignment[:, :2], 2).tolist() == [3, 3]  # ties go to the first


def test_tacotron2_durations_sum_to_the_mel_length_and_are_deterministic(corpus_dir):
    model = tiny_model('Tacotron2')
    timings = next(iter(timings_of(corpus_dir).values()))
    ids = torch.tensor(text_to_sequence(timings['text'], CLEANERS))
    mel = torch.randn(80, 60)

    def durations():
        alignment = model.teacher_forced_alignment(ids[None], torch.tensor([len(ids)]), mel[None])[0]
        return durations_from_alignment(alignment, len(ids))
    assert durations().shape == ids.shape and int(durations().sum()) == 60
    assert torch.equal(durations(), durations())


# ---------------------------------------------------------------- pitch

def test_pitch_of_a_tone_is_found_per_symbol_and_silence_is_unvoiced(tmp_path):
    sampling_rate, frequency = 22050, 220.0
    time = torch.arange(int(1.2 * sampling_rate)) / sampling_rate
    tone = 0.5 * torch.sin(2 * math.pi * frequency * time)
    audio = torch.cat([tone, torch.zeros(sampling_rate // 2)])
    save_wav(tmp_path / 'tone.wav', audio, sampling_rate)
    audio, _ = load_wav(tmp_path / 'tone.wav', sampling_rate)

    pitch = frame_pitch(audio, sampling_rate, 1024, HOP)
    n_frames = mel_frame_count(audio.numel(), HOP)
    assert pitch.shape == (n_frames,)
    # Symbol 0 covers the half-padded first frames, symbols 1-10 the steady tone (frames 2-91), the next one the
    # tone's end, the last one 30 frames of silence.
    durations = torch.tensor([2] + [9] * 10 + [n_frames - 92 - 30, 30])
    per_symbol = char_pitch(pitch, durations)
    assert per_symbol[1:11].tolist() == pytest.approx([frequency] * 10, rel=0.02)
    assert per_symbol[-1] == 0, 'the silent tail is unvoiced'


def test_char_pitch_averages_voiced_frames_only():
    pitch = torch.tensor([100., 0., 300., 0., 0., 200.])
    assert char_pitch(pitch, torch.tensor([3, 2, 0, 1])).tolist() == [200., 0., 0., 200.]
    with pytest.raises(ValueError, match='sum to 5 frames but the pitch track has 6'):
        char_pitch(pitch, torch.tensor([3, 2]))


def test_normalisation_keeps_unvoiced_at_zero():
    assert normalize_pitch(torch.tensor([0., 250., 150.]), 200., 50.).tolist() == [0., 1., -1.]


def test_pitch_stats_file(tmp_path):
    path = tmp_path / 'stats.json'
    write_pitch_stats(path, {'mean': 210.5, 'std': 30.25})
    assert read_pitch_stats(path) == (210.5, 30.25)
    for content in ('{"mean": 200}', 'not json', '{"mean": 200, "std": 0}'):
        path.write_text(content)
        with pytest.raises(PitchStatsError, match=f'^{path}: '):
            read_pitch_stats(path)
    with pytest.raises(PitchStatsError, match='pitch statistics: no such file'):
        read_pitch_stats(tmp_path / 'absent.json')


# ---------------------------------------------------------------- dataset and batch

def train_args(dataset_path, *flags):
    parser = add_text_args(add_audio_args(argparse.ArgumentParser()))
    add_data_args(parser)
    models.model_spec('FastPitch').add_model_args(parser)
    return parser.parse_args(['-d', str(dataset_path), '--training-files', 'unused', '--validation-files', 'unused',
                              *flags])


def fastpitch_filelist(corpus, split='train'):
    return corpus / 'filelists' / f'espeak_mel_dur_pitch_text_{split}_filelist.txt'


def fastpitch11_filelist(corpus, split='train'):
    return corpus / 'filelists' / f'espeak_mel_pitch_text_{split}_filelist.txt'


V11 = ('--fastpitch-version', '1.1', '--text-cleaners', 'english_cleaners_v2')


def test_items_are_consistent_and_pitch_is_normalised(prepared_corpus):
    stats_file = prepared_corpus / 'pitch_char_stats__espeak_audio_text_train_filelist.json'
    dataset = get_dataset(train_args(prepared_corpus, '--pitch-mean-std-file', str(stats_file)),
                          fastpitch_filelist(prepared_corpus))
    raw = get_dataset(train_args(prepared_corpus), fastpitch_filelist(prepared_corpus))
    mean, std = read_pitch_stats(stats_file)
    for (text, mel, durations, pitch, speaker), (_, _, _, pitch_hz, _) in zip(dataset, raw):
        assert durations.shape == pitch.shape == text.shape and int(durations.sum()) == mel.size(1)
        assert speaker is None
        voiced = pitch_hz > 0
        torch.testing.assert_close(pitch[voiced], (pitch_hz[voiced] - mean) / std)
        assert not pitch[~voiced].any()


def test_batch_runs_through_the_model(prepared_corpus):
    args = train_args(prepared_corpus)
    dataset = get_dataset(args, fastpitch_filelist(prepared_corpus))
    loader = torch.utils.data.DataLoader(dataset, batch_size=3, collate_fn=get_collate_fn(args))
    x, y, num_items = batch_to_device(next(iter(loader)), torch.device('cpu'))
    text, input_lengths, mel, output_lengths, durations, duration_lengths, pitch = x
    assert input_lengths.tolist() == sorted(input_lengths.tolist(), reverse=True)
    assert torch.equal(durations.sum(1), output_lengths) and torch.equal(duration_lengths, input_lengths)
    assert mel.shape == (3, 80, int(output_lengths.max())) and text.shape == durations.shape == pitch.shape
    for row in range(3):
        assert not text[row, input_lengths[row]:].any() and not mel[row, :, output_lengths[row]:].any()
    assert y == [mel, durations, duration_lengths, pitch] and num_items == output_lengths.sum()
    mel_out, *_ = tiny_model('FastPitch')(x)
    assert mel_out.shape == (3, mel.size(2), 80)


def test_speaker_column_travels_with_the_batch(prepared_corpus, tmp_path):
    filelist = tmp_path / 'speakers.txt'
    lines = fastpitch_filelist(prepared_corpus).read_text().splitlines()[:2]
    filelist.write_text(''.join(f'{line}|{speaker}\n' for speaker, line in zip((7, 3), lines)))
    args = train_args(prepared_corpus)
    dataset = get_dataset(args, filelist)
    batch = get_collate_fn(args)([dataset[0], dataset[1]])
    order = [0, 1] if len(dataset[0][0]) >= len(dataset[1][0]) else [1, 0]
    assert batch[7].tolist() == [(7, 3)[i] for i in order]
    x, _, _ = batch_to_device(batch, torch.device('cpu'))
    assert len(x) == 7  # what FastPitch 1.0's forward takes


def test_inconsistent_files_are_errors_at_the_line(prepared_corpus, tmp_path):
    root = tmp_path / 'corpus'
    for kind in ('mels', 'durations', 'pitch_char'):
        shutil.copytree(prepared_corpus / kind, root / kind)
    line = fastpitch_filelist(prepared_corpus).read_text().splitlines()[0]
    mel_path, durations_path, pitch_path, text = line.split('|')
    durations = torch.load(root / durations_path, weights_only=True)
    filelist = tmp_path / 'list.txt'
    filelist.write_text(f'{line}\n{mel_path}|bad_sum.pt|{pitch_path}|{text}\n{mel_path}|short.pt|{pitch_path}|{text}\n'
                        f'{mel_path}|{durations_path}|absent.pt|{text}\n')
    torch.save(durations + torch.eye(len(durations), dtype=torch.long)[0], root / 'bad_sum.pt')
    torch.save(durations[:-1], root / 'short.pt')
    dataset = get_dataset(train_args(root), filelist)
    dataset[0]
    with pytest.raises(FilelistError, match=f'^{filelist}:2: .*bad_sum.pt: durations sum to .* but the mel has'):
        dataset[1]
    with pytest.raises(FilelistError, match=f'^{filelist}:3: .*short.pt: has .* durations values but the transcript'):
        dataset[2]
    with pytest.raises(FilelistError, match=f'^{filelist}:4: .*absent.pt: no such pitch file'):
        dataset[3]


# ---------------------------------------------------------------- FastPitch 1.1

def test_v11_items_hold_frame_pitch_energy_and_the_prior(prepared_corpus):
    stats_file = prepared_corpus / 'pitch_stats__espeak_audio_text_train_filelist.json'
    dataset = get_dataset(train_args(prepared_corpus, *V11, '--pitch-mean-std-file', str(stats_file)),
                          fastpitch11_filelist(prepared_corpus))
    mean, std = read_pitch_stats(stats_file)
    for index, (text, mel, pitch, energy, prior, speaker, path) in enumerate(dataset):
        entry = dataset.entries[index]
        pitch_hz = torch.load(prepared_corpus / entry.paths[1], weights_only=True)
        assert pitch.shape == (1, mel.size(1)) and energy.shape == (mel.size(1),) and speaker is None
        torch.testing.assert_close(pitch[0], normalize_pitch(pitch_hz, mean, std))
        torch.testing.assert_close(energy, mel.norm(dim=0))
        torch.testing.assert_close(prior, interpolated_prior(mel.size(1), text.numel()))
        assert path == str(prepared_corpus / entry.paths[0])


def test_v11_batch_trains_the_model_without_durations(prepared_corpus):
    args = train_args(prepared_corpus, *V11, '--energy-conditioning')
    dataset = get_dataset(args, fastpitch11_filelist(prepared_corpus))
    batch = get_collate_fn(args)([dataset[i] for i in range(3)])
    x, y, num_items = batch_to_device(batch, torch.device('cpu'))
    text, input_lengths, mel, output_lengths, pitch, energy, speaker, prior, paths = x
    assert input_lengths.tolist() == sorted(input_lengths.tolist(), reverse=True) and speaker is None
    assert pitch.shape == (3, 1, mel.size(2)) and energy.shape == (3, mel.size(2))
    assert prior.shape == (3, mel.size(2), text.size(1)) and len(paths) == 3
    for row in range(3):
        assert not text[row, input_lengths[row]:].any() and not mel[row, :, output_lengths[row]:].any()
        assert not prior[row, output_lengths[row]:].any() and not prior[row, :, input_lengths[row]:].any()
    assert y == [mel, input_lengths, output_lengths] and num_items == output_lengths.sum()
    model = tiny_model('FastPitch', ['--fastpitch-version', '1.1', '--energy-conditioning'])
    loss_function = models.model_spec('FastPitch').build_loss(args)
    out = model(x)
    assert torch.equal(out[10].sum(1), output_lengths.float())  # the learnt durations fill every frame
    loss, meta = loss_function(out, y)
    loss.backward()
    assert torch.isfinite(loss) and {'attn_loss', 'energy_loss', 'kl_loss'} <= set(meta)


@pytest.mark.parametrize('version, other', [('1.0', '1.1'), ('1.1', '1.0')])
def test_the_other_versions_filelist_is_named_as_such(prepared_corpus, version, other):
    filelist = {'1.0': fastpitch_filelist, '1.1': fastpitch11_filelist}[other](prepared_corpus)
    args = train_args(prepared_corpus, '--fastpitch-version', version)
    with pytest.raises(FilelistError, match=f'are FastPitch {other} data, but this is FastPitch {version}'):
        get_dataset(args, filelist)


def test_v11_missing_or_per_symbol_pitch_is_an_error_at_the_line(prepared_corpus, tmp_path):
    line = fastpitch11_filelist(prepared_corpus).read_text().splitlines()[0]
    mel_path, pitch_path, text = line.split('|')
    char_pitch_path = pitch_path.replace('pitch/', 'pitch_char/')
    filelist = tmp_path / 'list.txt'
    filelist.write_text(f'{line}\n{mel_path}|pitch/absent.pt|{text}\n{mel_path}|{char_pitch_path}|{text}\n')
    dataset = get_dataset(train_args(prepared_corpus, *V11), filelist)
    dataset[0]
    with pytest.raises(FilelistError, match=f'^{filelist}:2: .*absent.pt: no such pitch file'):
        dataset[1]
    with pytest.raises(FilelistError, match=f'^{filelist}:3: .*expected F0 per mel frame .*FastPitch 1.0 data'):
        dataset[2]


def test_v11_speaker_out_of_range_is_named(prepared_corpus, tmp_path):
    filelist = tmp_path / 'speakers.txt'
    lines = fastpitch11_filelist(prepared_corpus).read_text().splitlines()[:2]
    filelist.write_text(''.join(f'{line}|{speaker}\n' for speaker, line in zip((1, 5), lines)))
    args = train_args(prepared_corpus, *V11)
    dataset = get_dataset(args, filelist)
    x, _, _ = batch_to_device(get_collate_fn(args)([dataset[0], dataset[1]]), torch.device('cpu'))
    model = tiny_model('FastPitch', ['--fastpitch-version', '1.1', '--n-speakers', '4'])
    with pytest.raises(ValueError, match='speaker id 5 is out of range: the model has n_speakers=4'):
        model(x)
