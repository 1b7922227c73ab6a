"""FastPitch 1.1 against the NVIDIA reference (DLE HEAD): state-dict layout, golden checkpoint and outputs, and the
reference defects we fixed (infer with given energy, pitch transforms at batch size > 1, the alignment search on
CPU tensors), the alignment search's own properties, speaker ids.

Run with -s to see the largest absolute difference of every golden output.
"""
import argparse
import functools
import itertools
import json
import math

import pytest
import torch

import models
from common.alignment_search import binarize_attention
from fastpitch.attention_prior import beta_binomial_prior, interpolated_prior
from fastpitch.loss_function import (AttentionBinarizationLoss, AttentionCTCLoss, FastPitch11Loss,
                                     binarization_loss_weight)
from fastpitch.model import regulate_len
from fastpitch.model_v11 import FastPitch11, mean_over_nonzero_frames
from fastpitch.synthesis import build_pitch_transform
from tests.reference_layout import assert_state_dict_layout, check_golden_output, read_state_dict_tsv

# GOLDEN.md, FastPitch 1.1 (fp32, CPU)
check = functools.partial(check_golden_output, atol=1e-5, rtol=1e-4)  # mel, predictions, targets
check_exact = functools.partial(check_golden_output, atol=0.0, rtol=0.0)
TOLERANCES = {'attn_soft': (1e-6, 0.0), 'attn_logprob': (1e-5, 1e-5), 'attn_hard': (0.0, 0.0),
              'attn_hard_dur': (0.0, 0.0)}
LOSS_RTOL = {'attn_loss': 1e-4}  # CTC; every other loss term rtol 1e-5

FORWARD_OUTPUTS = ['mel_out', 'dec_mask', 'dur_pred', 'log_dur_pred', 'pitch_pred', 'pitch_tgt', 'energy_pred',
                   'energy_tgt', 'attn_soft', 'attn_hard', 'attn_hard_dur', 'attn_logprob']
INFER_OUTPUTS = ['mel_out', 'dec_lens', 'dur_pred', 'pitch_pred', 'energy_pred']

# the 12 entries energy conditioning adds to the default-size state dict, between pitch_emb.bias and proj.weight
ENERGY_ENTRIES = [
    ('energy_predictor.layers.0.conv.weight', (256, 384, 3)), ('energy_predictor.layers.0.conv.bias', (256,)),
    ('energy_predictor.layers.0.norm.weight', (256,)), ('energy_predictor.layers.0.norm.bias', (256,)),
    ('energy_predictor.layers.1.conv.weight', (256, 256, 3)), ('energy_predictor.layers.1.conv.bias', (256,)),
    ('energy_predictor.layers.1.norm.weight', (256,)), ('energy_predictor.layers.1.norm.bias', (256,)),
    ('energy_predictor.fc.weight', (1, 256)), ('energy_predictor.fc.bias', (1,)),
    ('energy_emb.weight', (384, 1, 3)), ('energy_emb.bias', (384,))]

# A tiny 1.1 model for the tests that need no reference data (two heads: 1.1 attends per item). Written out here
# until 1.1 has flags for tests/tiny_configs.py to build it from.
TINY_CONFIG = dict(
    n_mel_channels=10, n_symbols=20, padding_idx=0, symbols_embedding_dim=16,
    in_fft_n_layers=1, in_fft_n_heads=2, in_fft_d_head=8, in_fft_conv1d_kernel_size=3,
    in_fft_conv1d_filter_size=32, in_fft_output_size=16,
    p_in_fft_dropout=0.1, p_in_fft_dropatt=0.1, p_in_fft_dropemb=0.0,
    out_fft_n_layers=1, out_fft_n_heads=2, out_fft_d_head=8, out_fft_conv1d_kernel_size=3,
    out_fft_conv1d_filter_size=32, out_fft_output_size=16,
    p_out_fft_dropout=0.1, p_out_fft_dropatt=0.1, p_out_fft_dropemb=0.0,
    dur_predictor_kernel_size=3, dur_predictor_filter_size=8, p_dur_predictor_dropout=0.1,
    dur_predictor_n_layers=2,
    pitch_predictor_kernel_size=3, pitch_predictor_filter_size=8, p_pitch_predictor_dropout=0.1,
    pitch_predictor_n_layers=2, pitch_embedding_kernel_size=3,
    energy_conditioning=True, energy_predictor_kernel_size=3, energy_predictor_filter_size=8,
    p_energy_predictor_dropout=0.1, energy_predictor_n_layers=2, energy_embedding_kernel_size=3,
    n_speakers=1, speaker_emb_weight=1.0)


def tiny_model(**overrides):
    torch.manual_seed(0)
    model = FastPitch11(**dict(TINY_CONFIG, **overrides)).eval()
    with torch.no_grad():
        model.duration_predictor.fc.bias.fill_(1.5)  # a few frames per symbol instead of ~0
        model.pitch_mean.fill_(200.0)
        model.pitch_std.fill_(50.0)
    return model


def tiny_batch(n_mel=10):
    """Texts of 9 and 5 symbols (zero-padded), mels of 30 and 17 frames, per-frame pitch with unvoiced (0) frames,
    per-frame energy, interpolated priors."""
    gen = torch.Generator().manual_seed(1)
    text_lens, mel_lens = torch.tensor([9, 5]), torch.tensor([30, 17])
    text = torch.randint(1, TINY_CONFIG['n_symbols'], (2, 9), generator=gen) * (torch.arange(9) < text_lens[:, None])
    frame_valid = torch.arange(30) < mel_lens[:, None]
    mel = torch.randn(2, n_mel, 30, generator=gen) * frame_valid[:, None]
    pitch = torch.randn(2, 1, 30, generator=gen) * (torch.rand(2, 1, 30, generator=gen) > 0.2) * frame_valid[:, None]
    energy = mel.norm(dim=1)
    prior = torch.zeros(2, 30, 9)
    for b in range(2):
        prior[b, :mel_lens[b], :text_lens[b]] = interpolated_prior(int(mel_lens[b]), int(text_lens[b]))
    return [text, text_lens, mel, mel_lens, pitch, energy, None, prior, ['a.wav', 'b.wav']]


def pitch_transform_args(**flags):
    defaults = dict(pitch_transform_flatten=False, pitch_transform_invert=False, pitch_transform_amplify=1.0,
                    pitch_transform_shift=0.0)
    return argparse.Namespace(**dict(defaults, **flags))


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference('golden_fastpitch11.pt')


@pytest.fixture(scope='module')
def golden_ckpt(load_reference):
    return load_reference('golden_fastpitch11_ckpt.pt')


@pytest.fixture(scope='module')
def golden_model(golden_ckpt):
    model = FastPitch11(**golden_ckpt['config'])
    model.load_state_dict(golden_ckpt['state_dict'])  # strict
    return model.eval()


@pytest.fixture(scope='module')
def golden_forward(golden, golden_model):
    inputs = golden['inputs']
    with torch.no_grad():
        return golden_model([inputs['text'], inputs['input_lengths'], inputs['mel'], inputs['output_lengths'],
                             inputs['pitch_dense'], inputs['energy_dense'], inputs['speaker'], inputs['attn_prior'],
                             inputs['audiopaths']])


def default_config(reference_dir, **overrides):
    return dict(json.loads((reference_dir / 'fastpitch11_config.json').read_text())['config'], **overrides)


# ---------------------------------------------------------------- layout and checkpoint

def test_state_dict_layout_matches_reference(reference_dir):
    with torch.device('meta'):  # names, shapes, dtypes without allocating 46 M weights
        model = FastPitch11(**default_config(reference_dir))
    # the aligner's projection is never used (by the reference either): frozen here so that DDP needs no search
    # for unused parameters
    assert_state_dict_layout(model, reference_dir / 'fastpitch11_state_dict.tsv', frozen=('attention.attn_proj',))


def test_the_flag_defaults_are_the_reference_config(reference_dir):
    """`--fastpitch-version 1.1` at the other flags' defaults builds exactly the reference parser's config."""
    assert models.model_spec('FastPitch').default_config(['--fastpitch-version', '1.1']) == default_config(reference_dir)


def test_energy_conditioning_adds_the_reference_entries_before_proj(reference_dir):
    with torch.device('meta'):
        model = FastPitch11(**default_config(reference_dir, energy_conditioning=True))
    entries, _ = read_state_dict_tsv(reference_dir / 'fastpitch11_state_dict.tsv')
    names = [name for name, _, _ in entries]
    at = names.index('proj.weight')
    expected = [(name, shape) for name, shape, _ in entries[:at]] + ENERGY_ENTRIES + \
               [(name, shape) for name, shape, _ in entries[at:]]
    state = model.state_dict()
    assert [(name, tuple(t.shape)) for name, t in state.items()] == expected
    assert len(state) == 185 and sum(t.numel() for t in state.values()) == 46_266_806


def test_golden_checkpoint_loads_strictly(golden, golden_ckpt):
    assert list(golden_ckpt) == ['epoch', 'iteration', 'config', 'train_setup', 'state_dict', 'optimizer', 'scaler',
                                 'ema_state_dict']
    assert golden_ckpt['config'] == golden['config']
    for key in ('state_dict', 'ema_state_dict'):
        model = FastPitch11(**golden_ckpt['config'])
        model.load_state_dict(golden_ckpt[key])  # strict
        assert float(model.pitch_mean) == pytest.approx(214.72203) and float(model.pitch_std) == pytest.approx(65.72038)


# ---------------------------------------------------------------- golden outputs

def test_alignment_search_on_golden_soft_attention(golden):
    """The search alone, on the reference's own soft attention: it is exact arithmetic on it."""
    inputs, expected = golden['inputs'], golden['outputs']['forward']
    attn_hard, durations = binarize_attention(expected['attn_soft'], inputs['input_lengths'], inputs['output_lengths'])
    check_exact('mas', 'attn_hard', attn_hard, expected['attn_hard'])
    check_exact('mas', 'attn_hard_dur', durations, expected['attn_hard_dur'])


def test_priors_match_golden(golden):
    inputs = golden['inputs']
    for b, (n_frames, n_symbols) in enumerate(zip(inputs['output_lengths'].tolist(), inputs['input_lengths'].tolist())):
        padded = torch.zeros_like(inputs['attn_prior'][b])
        padded[:n_frames, :n_symbols] = interpolated_prior(n_frames, n_symbols)
        check_golden_output('prior', f'attn_prior[{b}]', padded, inputs['attn_prior'][b], atol=1e-7, rtol=0.0)
        check_golden_output('prior', f'attn_prior_exact[{b}]', beta_binomial_prior(n_symbols, n_frames),
                            inputs['attn_prior_exact_items'][b], atol=0.0, rtol=1e-9)


def test_forward_matches_golden(golden, golden_forward):
    expected = golden['outputs']['forward']
    for name, value in zip(FORWARD_OUTPUTS, golden_forward, strict=True):
        atol, rtol = TOLERANCES.get(name, (1e-5, 1e-4))
        check_golden_output('forward', name, value, expected[name], atol=atol, rtol=rtol)


def test_losses_match_golden(golden, golden_forward):
    inputs, expected = golden['inputs'], golden['outputs']['loss']
    scales = expected['scales']
    criterion = FastPitch11Loss(dur_predictor_loss_scale=scales['dur_predictor_loss_scale'],
                                pitch_predictor_loss_scale=scales['pitch_predictor_loss_scale'],
                                attn_loss_scale=scales['attn_loss_scale'])
    assert criterion.energy_predictor_loss_scale == scales['energy_predictor_loss_scale']  # the default
    loss, meta = criterion(golden_forward, [inputs['mel'], inputs['input_lengths'], inputs['output_lengths']])
    binarization = AttentionBinarizationLoss()(golden_forward[9], golden_forward[8])
    kl_weight = binarization_loss_weight(expected['epoch'], start_epoch=0, warmup_epochs=100, weight=1.0)
    assert kl_weight == expected['kl_weight']
    meta['kl_loss'] = binarization * kl_weight

    check_golden_output('loss', 'criterion_loss', loss, expected['criterion_loss'], atol=0.0, rtol=1e-5)
    check_golden_output('loss', 'binarization_loss', binarization, expected['binarization_loss'], atol=0.0, rtol=1e-5)
    check_golden_output('loss', 'total_loss', loss + kl_weight * binarization, expected['total_loss'],
                        atol=0.0, rtol=1e-5)
    assert list(meta) == list(expected['meta'])
    for name, value in meta.items():
        check_golden_output('loss', f'meta.{name}', value, expected['meta'][name], atol=0.0,
                            rtol=LOSS_RTOL.get(name, 1e-5))


INFER_CALLS = {
    'infer': lambda inputs: {},
    'infer_pace1.5': lambda inputs: {'pace': 1.5},
    'infer_gt': lambda inputs: {'dur_tgt': inputs['infer_gt_dur_tgt'], 'pitch_tgt': inputs['infer_gt_pitch_tgt']},
    'infer_pitch_transform_amplify2_shift50': lambda inputs: {'pitch_transform': build_pitch_transform(
        pitch_transform_args(pitch_transform_amplify=2.0, pitch_transform_shift=50.0))},
    'infer_pitch_transform_invert': lambda inputs: {'pitch_transform': build_pitch_transform(
        pitch_transform_args(pitch_transform_invert=True))},
}


@pytest.mark.parametrize('call', list(INFER_CALLS))
def test_infer_matches_golden(golden, golden_model, call):
    inputs = golden['inputs']
    with torch.no_grad():
        out = golden_model.infer(inputs['text'], **INFER_CALLS[call](inputs))
    for name, value in zip(INFER_OUTPUTS, out, strict=True):
        check(call, name, value, golden['outputs'][call][name])


# ---------------------------------------------------------------- what we fixed

def test_infer_uses_and_returns_a_given_energy(golden, golden_model):
    """The reference crashes here (UnboundLocalError)."""
    text, energy_tgt = golden['inputs']['text'], golden['inputs']['infer_gt_energy_tgt']
    with torch.no_grad():
        mel, _, _, _, predicted = golden_model.infer(text)
        given_mel, _, _, _, energy = golden_model.infer(text, energy_tgt=energy_tgt)
        # the prediction, given back as a target, reproduces the plain call: the given energy is what is embedded
        same_mel, _, _, _, _ = golden_model.infer(text, energy_tgt=predicted.unsqueeze(1))
    assert torch.equal(energy, energy_tgt.squeeze(1))
    assert torch.equal(same_mel, mel)
    assert (given_mel - mel).abs().max() > 1e-2


def test_pitch_transform_at_batch_size_two_matches_each_item():
    """A transform gets (B, T_text) pitch and each item's length, as in 1.0 (the reference's custom transform
    fails at B > 1); the transformed pitch is what is embedded."""
    model = tiny_model()
    text, text_lens = tiny_batch()[:2]
    seen = []

    def ramp_over_each_item(pitch, lengths, mean, std):
        seen.append((tuple(pitch.shape), lengths.tolist(), float(mean), float(std)))
        return pitch + torch.arange(pitch.size(1)) / lengths.unsqueeze(1)

    with torch.no_grad():
        _, _, _, plain_pitch, _ = model.infer(text)
        mel, _, _, pitch, _ = model.infer(text, pitch_transform=ramp_over_each_item)
        expected_mel, _, _, _, _ = model.infer(text, pitch_tgt=pitch)
        for b, n in enumerate(text_lens.tolist()):
            alone = ramp_over_each_item(plain_pitch[b:b + 1, 0, :n], text_lens[b:b + 1], 200.0, 50.0)
            torch.testing.assert_close(pitch[b:b + 1, 0, :n], alone, atol=0.0, rtol=0.0)
    assert seen[0] == ((2, 9), [9, 5], 200.0, 50.0)
    assert pitch.shape == (2, 1, 9)
    torch.testing.assert_close(mel, expected_mel, atol=0.0, rtol=0.0)


def test_forward_runs_the_alignment_search_on_cpu_tensors():
    model = tiny_model()
    batch = tiny_batch()
    with torch.no_grad():
        out = model(batch)
    attn_hard, durations = out[9], out[10]
    assert attn_hard.device.type == 'cpu' and attn_hard.dtype == torch.float32
    assert durations.sum(1).tolist() == batch[3].tolist()
    assert torch.equal(durations, attn_hard.sum(2)[:, 0])
    assert not durations[1, 5:].any() and not attn_hard[1, :, 17:].any()


@pytest.mark.cuda
def test_alignment_search_on_cuda_tensors_matches_cpu():
    gen = torch.Generator().manual_seed(3)
    attn = torch.randn(3, 1, 40, 12, generator=gen).softmax(dim=3)
    symbol_lens, frame_lens = torch.tensor([12, 7, 12]), torch.tensor([40, 25, 12])
    cpu_hard, cpu_dur = binarize_attention(attn, symbol_lens, frame_lens)
    hard, dur = binarize_attention(attn.cuda(), symbol_lens.cuda(), frame_lens.cuda())
    assert hard.is_cuda and dur.is_cuda
    assert torch.equal(hard.cpu(), cpu_hard) and torch.equal(dur.cpu(), cpu_dur)


@pytest.mark.parametrize('n_speakers, speaker, bad_id', [(3, 3, 3), (3, -1, -1), (3, torch.tensor([0, 5]), 5),
                                                        (1, 1, 1)])
def test_speaker_id_out_of_range_is_a_value_error(n_speakers, speaker, bad_id):
    model = tiny_model(n_speakers=n_speakers)
    text = tiny_batch()[0]
    with pytest.raises(ValueError, match=rf'^speaker id {bad_id} is out of range: the model has '
                                         rf'n_speakers={n_speakers}$'):
        model.infer(text, speaker=speaker)


def test_speaker_ids_select_their_embedding():
    model = tiny_model(n_speakers=3)
    names = list(model.state_dict())
    assert names[names.index('speaker_emb.weight') + 1].startswith('duration_predictor.')  # the reference's place
    text = tiny_batch()[0]
    with torch.no_grad():
        mel0 = model.infer(text, speaker=0, dur_tgt=torch.full_like(text, 2))[0]
        mel2 = model.infer(text, speaker=2, dur_tgt=torch.full_like(text, 2))[0]
        mixed = model.infer(text, speaker=torch.tensor([0, 2]), dur_tgt=torch.full_like(text, 2))[0]
    assert (mel0 - mel2).abs().max() > 1e-3
    assert torch.equal(mixed[0], mel0[0]) and torch.equal(mixed[1], mel2[1])
    with pytest.raises(ValueError, match='speaker ids are required'):
        model(tiny_batch())


# ---------------------------------------------------------------- the search, priors and pieces on their own

def best_path_by_enumeration(log_attn):
    """Durations of the best monotonic path (first frame on the first symbol, stay or advance by one, end on the
    last), trying every split of the frames into non-empty runs."""
    n_frames, n_symbols = log_attn.shape
    best = None
    for cuts in itertools.combinations(range(1, n_frames), n_symbols - 1):
        bounds = (0, *cuts, n_frames)
        score = sum(float(log_attn[bounds[j]:bounds[j + 1], j].double().sum()) for j in range(n_symbols))
        if best is None or score > best[0]:
            best = (score, [bounds[j + 1] - bounds[j] for j in range(n_symbols)])
    return best[1]


@pytest.mark.parametrize('seed', range(5))
def test_alignment_search_finds_the_best_monotonic_path(seed):
    gen = torch.Generator().manual_seed(seed)
    attn = torch.randn(2, 1, 9, 4, generator=gen).mul(2).softmax(dim=3)
    symbol_lens, frame_lens = torch.tensor([4, 3]), torch.tensor([9, 7])
    _, durations = binarize_attention(attn, symbol_lens, frame_lens)
    for b in range(2):
        n_frames, n_symbols = int(frame_lens[b]), int(symbol_lens[b])
        expected = best_path_by_enumeration(attn[b, 0, :n_frames, :n_symbols].log())
        assert durations[b, :n_symbols].tolist() == expected
        assert not durations[b, n_symbols:].any()


def test_alignment_search_ties_go_to_the_earlier_symbol():
    """Uniform attention: every path ties; back from the last frame, each tie moves to the earlier symbol."""
    attn = torch.full((1, 1, 8, 3), 1 / 3)
    attn_hard, durations = binarize_attention(attn, torch.tensor([3]), torch.tensor([8]))
    assert durations.tolist() == [[6.0, 1.0, 1.0]]
    assert attn_hard[0, 0, 0].tolist() == [1.0, 0.0, 0.0]


def test_alignment_search_keeps_dtype_and_one_symbol_items():
    attn = torch.rand(2, 1, 5, 3, dtype=torch.float64)
    attn_hard, durations = binarize_attention(attn, torch.tensor([1, 3]), torch.tensor([5, 4]))
    assert attn_hard.dtype == durations.dtype == torch.float64
    assert durations.tolist()[0] == [5.0, 0.0, 0.0] and sum(durations.tolist()[1]) == 4.0


@pytest.mark.parametrize('symbol_lens, frame_lens, message', [
    ([3, 0], [5, 4], r'symbol lengths \[3, 0\] must lie in 1\.\.3'),
    ([3, 3], [5, 6], r'frame lengths \[5, 6\] must lie in 1\.\.5')])
def test_alignment_search_rejects_lengths_outside_the_attention(symbol_lens, frame_lens, message):
    with pytest.raises(ValueError, match=message):
        binarize_attention(torch.rand(2, 1, 5, 3), torch.tensor(symbol_lens), torch.tensor(frame_lens))


def test_exact_prior_rows_are_the_truncated_beta_binomial():
    n_symbols, n_frames = 4, 6
    prior = beta_binomial_prior(n_symbols, n_frames)
    assert prior.shape == (n_frames, n_symbols) and prior.dtype == torch.float64

    def pmf(k, a, b):  # C(n, k) B(k + a, n - k + b) / B(a, b)
        log_beta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
        return math.comb(n_symbols, k) * math.exp(log_beta(k + a, n_symbols - k + b) - log_beta(a, b))

    for t in range(n_frames):
        a, b = t + 1, n_frames - t
        expected = [pmf(k, a, b) for k in range(n_symbols)]
        torch.testing.assert_close(prior[t], torch.tensor(expected, dtype=torch.float64), atol=0.0, rtol=1e-12)
        # the support is 0..n_symbols: each row misses the mass at k = n_symbols
        assert float(prior[t].sum()) == pytest.approx(1.0 - pmf(n_symbols, a, b), rel=1e-12)


def test_interpolated_prior_is_the_exchanged_bank():
    """At a bank's own size (200 frames, 40 symbols) nothing is zoomed: the prior is the bank, built with the mel
    and text counts exchanged, and clearly not the exact prior."""
    prior = interpolated_prior(200, 40)
    assert prior.shape == (200, 40) and prior.dtype == torch.float32
    torch.testing.assert_close(prior, beta_binomial_prior(200, 40).T.float(), atol=1e-7, rtol=0.0)
    assert (prior - beta_binomial_prior(40, 200).float()).abs().max() > 0.01
    assert interpolated_prior(149, 51).shape == (149, 51)


def test_mean_over_nonzero_frames():
    values = torch.tensor([[[1.0, 0.0, 3.0, 4.0, 0.0, 0.0, 2.0]]])
    durations = torch.tensor([[3.0, 1.0, 0.0, 2.0, 1.0]])
    means = mean_over_nonzero_frames(values, durations)
    assert means.tolist() == [[[2.0, 4.0, 0.0, 0.0, 2.0]]]  # (1 + 3) / 2; 4; no frames; unvoiced only; 2


def test_regulate_len_rounds_half_up_for_v11():
    enc_out = torch.arange(4, dtype=torch.float32).view(1, 4, 1)
    durations = torch.tensor([[1.0, 5.0, 3.0, 0.9]])
    frames, lens = regulate_len(durations, enc_out, pace=2.0, round_half_up=True)
    # 0.5 -> 1, 2.5 -> 3, 1.5 -> 2, 0.45 -> 0 (1.0's half-to-even would give 0, 2, 2, 0)
    assert lens.tolist() == [6]
    assert frames[0, :, 0].tolist() == [0, 1, 1, 1, 2, 2]


@pytest.mark.parametrize('epoch, expected', [(0, 0.0), (9, 0.0), (10, 0.0), (30, 0.5), (50, 1.0), (80, 1.0)])
def test_binarization_loss_weight_ramps_in(epoch, expected):
    assert binarization_loss_weight(epoch, start_epoch=10, warmup_epochs=40, weight=2.0) == pytest.approx(
        2.0 * expected)


def test_binarization_loss_weight_without_warmup():
    assert binarization_loss_weight(5, start_epoch=5, warmup_epochs=0, weight=1.0) == 1.0


def test_training_step_reaches_every_parameter_but_the_unused_attn_proj():
    model = tiny_model(n_speakers=2).train()
    batch = tiny_batch()
    batch[6] = torch.tensor([0, 1])
    out = model(batch)
    loss, meta = FastPitch11Loss()(out, [batch[2], batch[1], batch[3]])
    loss = loss + 0.5 * AttentionBinarizationLoss()(out[9], out[8])
    loss.backward()
    assert set(meta) == {'loss', 'mel_loss', 'duration_predictor_loss', 'pitch_loss', 'attn_loss', 'dur_error',
                         'energy_loss'}
    for name, param in model.named_parameters():
        if name.startswith('attention.attn_proj.'):
            assert param.grad is None, name  # kept for the checkpoint layout only
            continue
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_attention_ctc_gradient_is_finite_and_zero_on_padded_symbols():
    """The reference masks padded symbols with -inf, which makes CTC's gradient NaN on a CPU."""
    attn_logprob = torch.randn(2, 1, 12, 6).log_softmax(dim=3).requires_grad_()
    loss = AttentionCTCLoss()(attn_logprob, torch.tensor([6, 4]), torch.tensor([12, 9]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(attn_logprob.grad).all()
    assert not attn_logprob.grad[1, :, :, 4:].any() and not attn_logprob.grad[1, :, 9:].any()
    assert attn_logprob.grad[0].abs().sum() > 0


def test_without_energy_conditioning_energy_outputs_are_none():
    model = tiny_model(energy_conditioning=False)
    batch = tiny_batch()
    with torch.no_grad():
        out = model(batch)
        assert model.infer(batch[0])[4] is None
    assert out[6] is None and out[7] is None
    _, meta = FastPitch11Loss()(out, [batch[2], batch[1], batch[3]])
    assert 'energy_loss' not in meta
