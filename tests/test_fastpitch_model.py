"""FastPitch 1.0 behaviour on a tiny config: length regulation, padding, pitch transforms, loss, flags."""
import argparse
import math

import pytest
import torch

from common.data_args import add_audio_args
from common.text.symbols import symbols
from fastpitch.arg_parser import add_model_args
from fastpitch.loss_function import FastPitchLoss
from fastpitch.model import FALLBACK_PITCH_MEAN, FALLBACK_PITCH_STD, FastPitch, regulate_len
from fastpitch.transformer import MultiHeadAttn

from tests.tiny_configs import tiny_config

N_MEL = 10
# one head: with several heads the reference pairs heads across batch items (see MultiHeadAttn)
ONE_HEAD = ['--n-mel-channels', str(N_MEL), '--in-fft-n-heads', '1', '--out-fft-n-heads', '1']
# pointwise convolutions everywhere (see the pointwise_model fixture)
KERNEL_1 = ['--in-fft-conv1d-kernel-size', '1', '--out-fft-conv1d-kernel-size', '1',
            '--dur-predictor-kernel-size', '1', '--pitch-predictor-kernel-size', '1']


def build_model(extra_flags=()):
    torch.manual_seed(0)
    model = FastPitch(**tiny_config('FastPitch', [*ONE_HEAD, *extra_flags])).eval()
    with torch.no_grad():
        model.duration_predictor.fc.bias.fill_(1.5)  # a few frames per symbol instead of ~0
        model.pitch_mean.fill_(200.0)
        model.pitch_std.fill_(50.0)
    return model


@pytest.fixture(scope='module')
def model():
    return build_model()


@pytest.fixture(scope='module')
def pointwise_model():
    """Kernel-1 convolutions: the reference's two-conv stacks (feed-forward, predictors) let the first padded
    position's inner activation reach the last real symbol/frame when kernels are wider (the golden data
    assert that), so batch-vs-single equality holds exactly only with pointwise convolutions."""
    return build_model(KERNEL_1)


def padded_batch():
    """Two texts of lengths 9 and 5, zero-padded, with durations and pitch (zero on padding)."""
    gen = torch.Generator().manual_seed(1)
    lens = torch.tensor([9, 5])
    text = torch.randint(1, len(symbols), (2, 9), generator=gen)
    dur = torch.randint(0, 4, (2, 9), generator=gen)
    pitch = torch.randn(2, 9, generator=gen)
    valid = torch.arange(9) < lens[:, None]
    return text * valid, lens, dur * valid, pitch * valid


def test_regulate_len_rounds_half_to_even_with_pace():
    enc_out = torch.arange(6, dtype=torch.float32).view(1, 6, 1).repeat(1, 1, 2)
    durations = torch.tensor([[1, 2, 3, 5, 0, 4]])
    frames, lens = regulate_len(durations, enc_out, pace=2.0)
    # 0.5 -> 0, 1 -> 1, 1.5 -> 2, 2.5 -> 2, 0 -> 0, 2 -> 2
    expected_symbols = [1, 2, 2, 3, 3, 5, 5]
    assert lens.tolist() == [7]
    assert frames[0, :, 0].tolist() == expected_symbols
    assert frames[0, :, 1].tolist() == expected_symbols


def test_regulate_len_zero_pads_shorter_items_and_cuts_at_mel_max_len():
    enc_out = torch.randn(2, 3, 4) + 10.0  # never zero
    durations = torch.tensor([[2, 0, 3], [1, 1, 0]])
    frames, lens = regulate_len(durations, enc_out)
    assert lens.tolist() == [5, 2]
    assert frames.shape == (2, 5, 4)
    assert torch.equal(frames[0], enc_out[0, [0, 0, 2, 2, 2]])
    assert torch.equal(frames[1, :2], enc_out[1, [0, 1]])
    assert not frames[1, 2:].any()

    cut, cut_lens = regulate_len(durations, enc_out, mel_max_len=3)
    assert cut_lens.tolist() == [3, 2]
    assert torch.equal(cut, frames[:, :3])


@pytest.mark.parametrize('pace', [0.0, -1.0])
def test_regulate_len_rejects_non_positive_pace(pace):
    with pytest.raises(ValueError, match='pace'):
        regulate_len(torch.ones(1, 2), torch.zeros(1, 2, 3), pace=pace)


def test_regulate_len_rejects_negative_durations():
    with pytest.raises(ValueError, match='non-negative'):
        regulate_len(torch.tensor([[2, -1]]), torch.zeros(1, 2, 3))


def test_constructor_ignores_n_symbols_and_max_seq_len():
    config = dict(tiny_config('FastPitch', ONE_HEAD), n_symbols=10, max_seq_len=4)
    model = FastPitch(**config).eval()
    assert model.encoder.word_emb.num_embeddings == len(symbols)
    assert model.encoder.word_emb.padding_idx == 0
    text = torch.randint(1, len(symbols), (1, 12))
    with torch.no_grad():
        mel, lens, _, _ = model.infer(text, torch.tensor([12]), dur_tgt=torch.ones(1, 12))
    assert lens.tolist() == [12] and mel.shape == (1, N_MEL, 12)


def test_infer_shapes_and_predicted_frame_counts(model):
    text, lens, _, _ = padded_batch()
    with torch.no_grad():
        mel, dec_lens, dur_pred, pitch_pred = model.infer(text, lens)
    assert dec_lens.dtype == torch.int64
    assert dec_lens.tolist() == torch.round(dur_pred).long().sum(1).tolist()
    assert mel.shape == (2, N_MEL, int(dec_lens.max()))
    assert not dur_pred[1, 5:].any() and not pitch_pred[1, 5:].any()


def test_pace_two_halves_frame_counts(model):
    text, lens, dur, _ = padded_batch()
    with torch.no_grad():
        _, normal_lens, _, _ = model.infer(text, lens, dur_tgt=dur)
        _, fast_lens, _, _ = model.infer(text, lens, dur_tgt=dur, pace=2.0)
    assert normal_lens.tolist() == dur.sum(1).tolist()
    halved = [sum(round(d / 2) for d in row) for row in dur.tolist()]  # Python rounds half to even too
    assert fast_lens.tolist() == halved


def test_padding_does_not_change_an_items_infer_output(pointwise_model):
    text, lens, _, _ = padded_batch()
    with torch.no_grad():
        batch_mel, batch_lens, batch_dur, batch_pitch = pointwise_model.infer(text, lens)
        for b in range(2):
            n = int(lens[b])
            mel, dec_lens, dur, pitch = pointwise_model.infer(text[b:b + 1, :n], lens[b:b + 1])
            assert dec_lens.item() == batch_lens[b].item()
            torch.testing.assert_close(dur[0], batch_dur[b, :n], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(pitch[0], batch_pitch[b, :n], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(mel[0], batch_mel[b, :, :dec_lens.item()], atol=1e-5, rtol=1e-5)


def test_padding_does_not_change_an_items_forward_output(pointwise_model):
    text, lens, dur, pitch = padded_batch()
    mel_lens = dur.sum(1)
    mel = torch.randn(2, N_MEL, int(mel_lens.max()))
    with torch.no_grad():
        batch_out = pointwise_model([text, lens, mel, mel_lens, dur, lens, pitch])
        n, frames = int(lens[1]), int(mel_lens[1])
        single_out = pointwise_model([text[1:, :n], lens[1:], mel[1:, :, :frames], mel_lens[1:], dur[1:, :n], lens[1:],
                            pitch[1:, :n]])
    torch.testing.assert_close(single_out[0][0], batch_out[0][1, :frames], atol=1e-5, rtol=1e-5)
    assert batch_out[1][1, :, 0].tolist() == [True] * frames + [False] * (mel.size(2) - frames)


def test_attention_with_one_item_is_plain_multi_head_attention():
    torch.manual_seed(0)
    attn = MultiHeadAttn(n_head=2, d_model=6, d_head=3, dropout=0.0, dropatt=0.0).eval()
    x = torch.randn(1, 5, 6)
    key_mask = torch.tensor([[True, True, True, True, False]])
    q, k, v = attn.qkv_net(x)[0].chunk(3, dim=1)
    heads = []
    for h in range(2):
        cols = slice(3 * h, 3 * h + 3)
        scores = q[:, cols] @ k[:, cols].T / math.sqrt(3)
        scores = scores.masked_fill(~key_mask, float('-inf'))
        heads.append(scores.softmax(dim=1) @ v[:, cols])
    expected = attn.layer_norm(x[0] + attn.o_net(torch.cat(heads, dim=1)))
    with torch.no_grad():
        torch.testing.assert_close(attn(x, key_mask)[0], expected, atol=1e-6, rtol=1e-5)


def test_pitch_transform_shift_in_hz_reaches_the_pitch_embedding(model):
    text, lens, _, _ = padded_batch()
    calls = []

    def shift_25_hz(pitch, pitch_lens, mean, std):
        calls.append((pitch_lens.tolist(), float(mean), float(std)))
        return pitch + 25.0 / std

    with torch.no_grad():
        base_mel, _, dur, base_pitch = model.infer(text, lens, dur_tgt=torch.full_like(text, 2))
        mel, _, _, pitch = model.infer(text, lens, dur_tgt=torch.full_like(text, 2), pitch_transform=shift_25_hz)
        expected_mel, _, _, _ = model.infer(text, lens, dur_tgt=torch.full_like(text, 2), pitch_tgt=pitch)
    assert calls == [([9, 5], 200.0, 50.0)]
    valid = torch.arange(9) < lens[:, None]
    torch.testing.assert_close(pitch, (base_pitch + 0.5) * valid)
    torch.testing.assert_close(mel, expected_mel)
    assert (mel - base_mel).abs().max() > 1e-3


def test_pitch_transform_falls_back_on_ljspeech_stats_when_unset():
    model = FastPitch(**tiny_config('FastPitch', ONE_HEAD)).eval()
    seen = []

    def flatten(pitch, pitch_lens, mean, std):
        seen.append((mean, std))
        return pitch * 0.0

    text = torch.randint(1, len(symbols), (1, 6))
    with torch.no_grad():
        # given durations: a random tiny model may predict zero frames, which no decoder convolution takes
        _, _, _, pitch = model.infer(text, torch.tensor([6]), dur_tgt=torch.full((1, 6), 2),
                                     pitch_transform=flatten)
    assert seen == [(FALLBACK_PITCH_MEAN, FALLBACK_PITCH_STD)]
    assert not pitch.any()


def test_training_step_reaches_every_parameter():
    torch.manual_seed(0)
    model = FastPitch(**tiny_config('FastPitch', ['--n-mel-channels', str(N_MEL)])).train()
    text, lens, dur, pitch = padded_batch()
    mel_lens = dur.sum(1)
    mel = torch.randn(2, N_MEL, int(mel_lens.max())) * (torch.arange(int(mel_lens.max())) < mel_lens[:, None, None])
    out = model([text, lens, mel, mel_lens, dur, lens, pitch])
    loss, _ = FastPitchLoss()(out, [mel, dur, lens, pitch])
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def loss_case():
    """Model outputs whose per-term losses are known: mel off by 2, pitch off by 1, durations exact."""
    dur = torch.tensor([[3, 1, 0], [2, 2, 0]])
    dur_lens = torch.tensor([3, 2])
    mel_tgt = torch.zeros(2, 4, 5)
    mel_tgt[0, :, :4] = 1.0
    mel_tgt[1, :, :4] = -1.0
    mel_out = mel_tgt.transpose(1, 2) + 2.0
    pitch_tgt = torch.tensor([[0.5, -0.5, 1.0], [0.2, 0.3, 0.0]])
    pitch_pred = pitch_tgt + 1.0
    log_dur_pred = (dur.float() + 1).log()
    dur_pred = dur.float() + torch.tensor([[0.5, -0.5, 0.0], [1.0, 0.0, 0.0]])
    dec_mask = torch.ones(2, 5, 1, dtype=torch.bool)
    return (mel_out, dec_mask, dur_pred, log_dur_pred, pitch_pred), [mel_tgt, dur, dur_lens, pitch_tgt]


def test_loss_terms_are_masked_means():
    model_out, targets = loss_case()
    loss, meta = FastPitchLoss()(model_out, targets)
    assert meta['mel_loss'].item() == pytest.approx(4.0)
    assert meta['pitch_loss'].item() == pytest.approx(1.0)
    assert meta['duration_predictor_loss'].item() == pytest.approx(0.0)
    assert meta['dur_error'].item() == pytest.approx(2.0 / 5)
    assert loss.item() == pytest.approx(5.0)
    assert meta['loss'].item() == pytest.approx(5.0)


def test_loss_scales():
    model_out, targets = loss_case()
    model_out = list(model_out)
    model_out[3] = model_out[3] + 0.5  # duration loss 0.25
    loss, meta = FastPitchLoss(dur_predictor_loss_scale=2.0, pitch_predictor_loss_scale=0.1)(model_out, targets)
    assert loss.item() == pytest.approx(4.0 + 0.1 * 1.0 + 2.0 * 0.25)
    assert meta['loss'].item() == pytest.approx(loss.item())
    assert meta['duration_predictor_loss'].item() == pytest.approx(0.25)


def test_loss_pads_a_short_decoder_output():
    model_out, targets = loss_case()
    short = (model_out[0][:, :4],) + model_out[1:]
    loss, _ = FastPitchLoss()(short, targets)
    assert loss.item() == pytest.approx(5.0)


def test_loss_gradient_ignores_padding():
    model_out, targets = loss_case()
    mel_out = model_out[0].clone().requires_grad_()
    pitch_pred = model_out[4].clone().requires_grad_()
    loss, _ = FastPitchLoss()((mel_out, *model_out[1:4], pitch_pred), targets)
    loss.backward()
    assert not mel_out.grad[:, 4:].any() and mel_out.grad[:, :4].all()
    assert not pitch_pred.grad[1, 2:].any() and pitch_pred.grad[0].all()


def test_training_flags_defaults_and_overrides():
    parser = argparse.ArgumentParser()
    add_audio_args(parser)
    add_model_args(parser)
    args = parser.parse_args([])
    assert (args.dur_predictor_loss_scale, args.pitch_predictor_loss_scale) == (1.0, 1.0)
    assert args.pitch_mean_std_file is None
    args = parser.parse_args(['--pitch-predictor-loss-scale', '0.1', '--pitch-mean-std-file', 'stats.json'])
    assert args.pitch_predictor_loss_scale == 0.1 and args.pitch_mean_std_file == 'stats.json'


def test_dropout_only_in_training_mode(model):
    text, lens, _, _ = padded_batch()
    dur = torch.full_like(text, 2)
    with torch.no_grad():
        first = model.infer(text, lens, dur_tgt=dur)[0]
        assert torch.equal(first, model.infer(text, lens, dur_tgt=dur)[0])
        model.train()
        try:
            noisy = model.infer(text, lens, dur_tgt=dur)[0]
        finally:
            model.eval()
    assert not torch.allclose(first, noisy)


def test_a_batch_predicted_to_have_no_frames_synthesizes_empty_mels():
    model = FastPitch(**tiny_config('FastPitch', ONE_HEAD)).eval()
    with torch.no_grad():
        model.duration_predictor.fc.bias.fill_(-100.0)  # every symbol predicted to last zero frames
        mel, dec_lens, _, _ = model.infer(torch.randint(1, len(symbols), (2, 5)), torch.tensor([5, 4]))
    assert dec_lens.tolist() == [0, 0]  # callers cut each item to its length: nothing to speak
    assert mel.shape[2] == 1  # the one frame the decoder's convolutions need, padding
