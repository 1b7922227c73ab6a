"""common/streaming.py: a mel vocoded in chunks with each vocoder's stream_context_frames joins into the audio of the
whole mel (HiFi-GAN, WaveGlow at sigma 0, both with their denoisers), chunk by chunk and lazily."""
import argparse

import pytest
import torch

import models
from common.precision import Precision
from common.streaming import context_frames, vocode_in_chunks
from hifigan.synthesis import HiFiGANVocoder
from tests.tiny_configs import tiny_model
from waveglow.model import WaveGlow
from waveglow.synthesis import WaveGlowVocoder

HOP = 256
N_FRAMES = 45
# Joined chunks against the whole: the same arithmetic on other lengths, float rounding only (measured: at most
# 7.5e-8 here for HiFi-GAN, 0 for WaveGlow, with or without the denoiser, of audio peaking near 0.15; at the
# reference sizes with random weights 3.1e-8 for HiFi-GAN V1, 0 for WaveGlow 512)
TOLERANCE = 1e-6
FP32 = Precision('cpu', 'fp32')


def _hifigan(strength):
    args = argparse.Namespace(hop_length=HOP, hifigan='h.pt', hifigan_denoising_strength=strength)
    return HiFiGANVocoder(tiny_model('HiFiGAN').remove_weight_norm().eval(), args)


def audible_waveglow(extra=()):
    """The tiny WaveGlow with its flows' last layers drawn too: at their zero initialisation every coupling is the
    identity, and sigma 0 gives silence whatever the mel."""
    model = tiny_model('WaveGlow', extra)
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.copy_(torch.randn(wn.end.weight.shape, generator=generator) * 0.05)
            wn.end.bias.copy_(torch.randn(wn.end.bias.shape, generator=generator) * 0.05)
    return model


def _waveglow(strength):
    args = argparse.Namespace(sigma_infer=0.0, denoising_strength=strength, wn_channels=None, waveglow='w.pt')
    return WaveGlowVocoder(WaveGlow.remove_weightnorm(audible_waveglow().eval()), args)


VOCODERS = {'hifigan': _hifigan, 'waveglow': _waveglow}
DEFAULT_STRENGTH = {'hifigan': 0.0, 'waveglow': 0.01}  # inference.py's defaults


def _mel(n_frames=N_FRAMES, batch_size=2):
    return torch.randn(batch_size, 80, n_frames, generator=torch.Generator().manual_seed(1))


def _vocode(vocoder):
    return lambda mel: vocoder(mel, FP32.autocast())


def _streamed(vocoder, mel, chunk_frames, context):
    with torch.no_grad():
        return torch.cat(list(vocode_in_chunks(_vocode(vocoder), mel, chunk_frames, context, HOP)), dim=1)


@pytest.fixture(scope='module', params=[(name, strength) for name in VOCODERS
                                        for strength in sorted({0.0, 0.01, DEFAULT_STRENGTH[name]})],
                ids=lambda param: f'{param[0]}-denoise{param[1]}')
def vocoder_and_whole(request):
    name, strength = request.param
    vocoder = VOCODERS[name](strength)
    mel = _mel()
    with torch.no_grad():
        whole = vocoder(mel, FP32.autocast())
    assert whole.abs().max() > 0.05  # audio worth comparing
    return vocoder, mel, whole


@pytest.mark.parametrize('chunk_frames', [7, 9, 64])  # 45 frames: 6 chunks and a short one, 5 chunks, one
def test_chunks_with_the_vocoders_context_join_into_the_whole(vocoder_and_whole, chunk_frames):
    vocoder, mel, whole = vocoder_and_whole
    joined = _streamed(vocoder, mel, chunk_frames, vocoder.stream_context_frames)
    assert joined.shape == whole.shape == (2, N_FRAMES * HOP)
    assert (joined - whole).abs().max() <= TOLERANCE


def test_too_little_context_is_caught_by_the_tolerance(vocoder_and_whole):
    """The comparison above can fail: with a quarter of the context, chunk edges differ far beyond the tolerance."""
    vocoder, mel, whole = vocoder_and_whole
    joined = _streamed(vocoder, mel, 10, vocoder.stream_context_frames // 4)
    assert (joined - whole).abs().max() > 1000 * TOLERANCE


@pytest.mark.parametrize('name', VOCODERS)
def test_the_receptive_field_bounds_how_far_one_frame_reaches_and_is_within_a_frame_of_it(name):
    """Change one mel frame: the audio changes within receptive_field_samples of that frame's hop, and (random
    weights reach all the way) further out than one hop less."""
    vocoder = VOCODERS[name](0.0)
    model = vocoder.model
    mel, frame = _mel(batch_size=1), 20
    changed_mel = mel.clone()
    changed_mel[:, :, frame] += 1.0
    with torch.no_grad():
        changed = (vocoder(mel, FP32.autocast()) != vocoder(changed_mel, FP32.autocast()))[0].nonzero()[:, 0]
    reach = max(frame * HOP - changed.min().item(), changed.max().item() - ((frame + 1) * HOP - 1))
    bound = model.receptive_field_samples()
    assert bound - HOP < reach <= bound


def test_reference_sized_vocoders_declare_their_context():
    """What the vocoders' comments state: HiFi-GAN V1 13 frames, WaveGlow's 12 flows of 8 layers 99; the
    denoiser's STFT (1024 samples) adds 4."""
    hifigan, waveglow = (models.default_model_config(name) for name in ('HiFiGAN', 'WaveGlow'))
    # the layers of the reference sizes, narrowed: channel counts do not change how far a layer reaches
    hifigan = models.get_model('HiFiGAN', {**hifigan, 'upsample_initial_channel': 16}, 'cpu')
    waveglow = models.get_model('WaveGlow', {**waveglow, 'n_mel_channels': 1,
                                             'WN_config': {**waveglow['WN_config'], 'n_channels': 2}}, 'cpu')
    assert context_frames(hifigan.receptive_field_samples(), HOP) == 13
    assert context_frames(waveglow.receptive_field_samples(), HOP) == 99
    assert _waveglow(0.01).stream_context_frames == context_frames(_waveglow(0.0).model.receptive_field_samples()
                                                                    + 1024, HOP)


class CountingVocoder:
    """hop samples per frame, each the frame's first band: chunk edges are easy to check; calls are recorded."""

    def __init__(self):
        self.calls = []

    def __call__(self, mel):
        self.calls.append(mel.size(2))
        return mel[:, 0].repeat_interleave(HOP, dim=1)


def test_chunks_are_vocoded_one_call_each_only_when_asked_for():
    vocoder, mel = CountingVocoder(), _mel(23, batch_size=1)
    chunks = vocode_in_chunks(vocoder, mel, 5, 3, HOP)
    assert vocoder.calls == []
    first = next(chunks)
    assert vocoder.calls == [5 + 3] and first.shape == (1, 5 * HOP)  # the first chunk has no left context
    rest = list(chunks)
    assert vocoder.calls == [8, 11, 11, 11, 6]  # 5 + 3 each side; the last is 3 frames with its left context
    assert [chunk.size(1) for chunk in [first, *rest]] == [5 * HOP] * 4 + [3 * HOP]
    assert torch.equal(torch.cat([first, *rest], dim=1), vocoder(mel))


@pytest.mark.parametrize('n_frames, chunk_frames, sizes', [(3, 8, [3]), (8, 8, [8]), (9, 4, [4, 4, 1]), (0, 4, [])])
def test_edges_short_mels_and_chunks_that_do_not_divide_the_length(n_frames, chunk_frames, sizes):
    vocoder, mel = CountingVocoder(), _mel(n_frames, batch_size=1)
    chunks = list(vocode_in_chunks(vocoder, mel, chunk_frames, 2, HOP))
    assert [chunk.size(1) for chunk in chunks] == [size * HOP for size in sizes]
    assert len(vocoder.calls) == len(sizes) and all(calls <= n_frames for calls in vocoder.calls)
    if sizes:
        assert torch.equal(torch.cat(chunks, dim=1), vocoder(mel))


def test_bad_chunks_and_short_audio_are_errors():
    with pytest.raises(ValueError, match='at least one frame per chunk'):
        next(vocode_in_chunks(CountingVocoder(), _mel(4), 0, 2, HOP))
    with pytest.raises(ValueError, match='made 512 samples of 4 frames, expected 256 per frame'):
        next(vocode_in_chunks(lambda mel: mel[:, 0].repeat_interleave(128, dim=1), _mel(4), 8, 2, HOP))
