"""WaveGlow data: random windows of the clips (seeded), zero-padding of short clips, the mel of the window."""
import argparse

import pytest
import torch

from common.audio import load_wav, save_wav
from common.data_args import add_audio_args, add_data_args, add_text_args, stft_kwargs
from common.filelist import FilelistError
from common.stft import TacotronSTFT, mel_from_audio
from tests.tiny_configs import tiny_model
from waveglow.data_function import batch_to_device, get_collate_fn, get_dataset

SEGMENT = 2048


def train_args(dataset_path, segment_length=SEGMENT):
    parser = add_text_args(add_audio_args(argparse.ArgumentParser()))
    add_data_args(parser)
    parser.add_argument('--segment-length', type=int)
    return parser.parse_args(['-d', str(dataset_path), '--training-files', 'unused', '--validation-files', 'unused',
                              '--segment-length', str(segment_length)])


def train_filelist(corpus):
    return corpus / 'filelists' / 'espeak_audio_text_train_filelist.txt'


def offset_in(audio, window):
    """Where `window` starts inside `audio` (exact match), or None."""
    candidates = (audio[:audio.numel() - window.numel() + 1] == window[0]).nonzero().flatten().tolist()
    return next((start for start in candidates if torch.equal(audio[start:start + window.numel()], window)), None)


def test_windows_are_slices_of_the_clip_with_the_mel_of_the_window(corpus_dir):
    args = train_args(corpus_dir)
    dataset = get_dataset(args, train_filelist(corpus_dir))
    stft = TacotronSTFT(**stft_kwargs(args))
    wav = train_filelist(corpus_dir).read_text().splitlines()[0].split('|')[0]
    clip, _ = load_wav(corpus_dir / wav, args.sampling_rate)
    offsets = set()
    for _ in range(4):
        mel, audio = dataset[0]
        assert audio.shape == (SEGMENT,) and mel.shape == (80, SEGMENT // args.hop_length + 1)
        offset = offset_in(clip, audio)
        assert offset is not None
        offsets.add(offset)
        torch.testing.assert_close(mel, mel_from_audio(stft, audio))
    assert len(offsets) > 1, 'the window should move between draws'


def test_windows_follow_the_torch_seed(corpus_dir):
    dataset = get_dataset(train_args(corpus_dir), train_filelist(corpus_dir))

    def draw(seed):
        torch.manual_seed(seed)
        return torch.stack([dataset[i][1] for i in range(len(dataset))])

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))


def test_short_clips_are_zero_padded_at_the_end(tmp_path):
    tone = 0.5 * torch.sin(torch.arange(1000) * 0.05)
    save_wav(tmp_path / 'short.wav', tone, 22050)
    (tmp_path / 'list.txt').write_text('short.wav|a short clip\n')
    args = train_args(tmp_path)
    mel, audio = get_dataset(args, tmp_path / 'list.txt')[0]
    clip, _ = load_wav(tmp_path / 'short.wav', 22050)
    assert torch.equal(audio[:1000], clip) and not audio[1000:].any() and audio.shape == (SEGMENT,)
    torch.testing.assert_close(mel, mel_from_audio(TacotronSTFT(**stft_kwargs(args)), audio))


def test_batch_runs_through_the_model(corpus_dir):
    args = train_args(corpus_dir)
    loader = torch.utils.data.DataLoader(get_dataset(args, train_filelist(corpus_dir)), batch_size=2,
                                         collate_fn=get_collate_fn(args))
    x, y, num_items = batch_to_device(next(iter(loader)), torch.device('cpu'))
    mel, audio = x
    assert y is audio and audio.shape == (2, SEGMENT) and mel.shape == (2, 80, SEGMENT // 256 + 1)
    assert num_items == 2 * SEGMENT
    z, *_ = tiny_model('WaveGlow')(x)
    assert z.numel() == audio.numel()


def test_errors(corpus_dir, tmp_path):
    (tmp_path / 'list.txt').write_text('wavs/absent.wav|x\n')
    with pytest.raises(FilelistError, match=f'^{tmp_path}/list.txt:1: .*absent.wav: no such file'):
        get_dataset(train_args(tmp_path), tmp_path / 'list.txt')[0]
    with pytest.raises(ValueError, match='--segment-length must be positive'):
        get_dataset(train_args(corpus_dir, 0), train_filelist(corpus_dir))
