"""Numerical precision of the fast paths. fp32 fast paths must equal the plain computation (channels-last
convolutions, Tacotron 2's deferred recurrent weight gradients); the reduced-precision paths (common/precision.py)
must stay close: int8 layers against their fp32 originals, and the quality cost of int8 and bf16 on whole tiny
models (mel L1 for Tacotron 2 and FastPitch, SNR at sigma 0 for WaveGlow).

The tiny models' layers are far below INT8_MIN_WEIGHTS, so these tests quantize every layer with at least
TEST_MIN_WEIGHTS weights: more of the model than the default threshold quantizes at full size, a harsher case.
The bounds leave about 4x headroom over the errors measured when the tests were written.
"""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import models
from common import precision
from common.layers import ChannelsLastConv1d
from common.quality import mel_l1, snr_db
from fastpitch import FastPitchLoss
from tacotron2.model import padding_mask
from common.text import text_to_sequence
from tests.tiny_configs import tiny_config

TEST_MIN_WEIGHTS = 256  # above WaveGlow's 8x8 invertible convolution, which must stay exact to be inverted
SENTENCE = 'Reduced precision should cost little: this sentence measures how little.'


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


def _symbols():
    ids = torch.tensor([text_to_sequence(SENTENCE, ['english_cleaners'])])
    return ids, torch.tensor([ids.size(1)])


CONV_SHAPES = [
    (64, 128, 3, 4, 4),      # WaveGlow in_layer: dilated, same length
    (48, 96, 5, 1, 2),       # Tacotron 2 encoder/postnet
    (80, 64, 1, 1, 0),       # 1x1 (cond, res_skip)
    (32, 40, 3, 1, 0),       # no padding: shorter output
    (16, 24, 3, 20, 20),     # dilation beyond the input: side taps read only padding
]


def _conv_pair(in_ch, out_ch, kernel, dilation, padding):
    """A ChannelsLastConv1d and an nn.Conv1d with the same weights."""
    fast = ChannelsLastConv1d(in_ch, out_ch, kernel, padding=padding, dilation=dilation)
    plain = nn.Conv1d(in_ch, out_ch, kernel, padding=padding, dilation=dilation)
    plain.load_state_dict(fast.state_dict())
    return fast, plain


@pytest.mark.parametrize('in_ch, out_ch, kernel, dilation, padding', CONV_SHAPES)
@pytest.mark.parametrize('batch', [1, 3])
def test_channels_last_conv_equals_conv1d_with_and_without_autograd(in_ch, out_ch, kernel, dilation, padding, batch):
    fast, plain = _conv_pair(in_ch, out_ch, kernel, dilation, padding)
    x = torch.randn(batch, in_ch, 37)
    expected = plain(x)
    with torch.no_grad():  # one product per tap, in place
        torch.testing.assert_close(fast(x.transpose(1, 2)).transpose(1, 2), expected, atol=1e-5, rtol=1e-4)
    x_last = x.transpose(1, 2).clone().requires_grad_()
    got = fast(x_last)  # im2col under autograd
    torch.testing.assert_close(got.transpose(1, 2), expected, atol=1e-5, rtol=1e-4)
    grad = torch.randn_like(got)
    got.backward(grad)
    expected.backward(grad.transpose(1, 2))
    torch.testing.assert_close(fast.weight.grad, plain.weight.grad, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(fast.bias.grad, plain.bias.grad, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('in_ch, out_ch, kernel, dilation, padding', CONV_SHAPES)
def test_channels_last_conv_as_one_convolution_equals_conv1d(in_ch, out_ch, kernel, dilation, padding):
    """The path a GPU takes (one cuDNN call), checked here on the CPU."""
    fast, plain = _conv_pair(in_ch, out_ch, kernel, dilation, padding)
    x = torch.randn(2, in_ch, 37)
    with torch.no_grad():
        torch.testing.assert_close(fast.as_one_convolution(x.transpose(1, 2)).transpose(1, 2), plain(x),
                                   atol=1e-5, rtol=1e-4)


def test_channels_last_conv_stores_each_tap_contiguous_and_loads_plain_state_dicts():
    fast, plain = _conv_pair(8, 16, 3, 2, 2)
    assert all(fast.weight[:, :, tap].is_contiguous() for tap in range(3))
    fast.load_state_dict(nn.Conv1d(8, 16, 3).state_dict())
    assert fast.weight[:, :, 1].is_contiguous()


def test_channels_last_conv_runs_in_bf16_under_autocast():
    fast, plain = _conv_pair(16, 32, 3, 4, 4)
    x = torch.randn(1, 16, 20)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        got = fast(x.transpose(1, 2))
    assert got.dtype == torch.bfloat16
    assert snr_db(plain(x).detach(), got.float().transpose(1, 2)) > 30


def test_tacotron2_teacher_forcing_gradients_equal_plain_lstm_cells():
    """Decoder.forward defers the LSTM weight gradients to one product per pass; compare with nn.LSTMCell autograd
    driven through the same step function."""
    model = models.get_model('Tacotron2', tiny_config('Tacotron2'), 'cpu')
    decoder = model.decoder
    memory = torch.randn(2, 9, 32)
    lengths = torch.tensor([9, 6])
    frames = torch.randn(2, 80, 7)

    def plain_forward():
        steps = frames.permute(2, 0, 1)
        prenet_frames = decoder.prenet(torch.cat((steps.new_zeros(1, 2, 80), steps)))
        state = decoder.initial_state(memory)
        processed = decoder.attention_layer.memory_layer(memory)
        mask = padding_mask(lengths, memory.size(1))
        hidden = [decoder.step(prenet_frames[t], state, memory, processed, mask,
                               (decoder.attention_rnn, decoder.decoder_rnn)) for t in range(steps.size(0))]
        mel, gate = decoder.project(torch.stack(hidden))
        return mel.permute(1, 2, 0), gate.squeeze(2).t()

    def gradients(forward):
        torch.manual_seed(3)  # the same prenet dropout masks
        mel, gate = forward()
        ((mel * torch.linspace(-1, 1, mel.numel()).view_as(mel)).sum() + gate.sum()).backward()
        grads = {name: p.grad.clone() for name, p in decoder.named_parameters()}
        decoder.zero_grad(set_to_none=True)
        return mel.detach(), grads

    expected_mel, expected = gradients(plain_forward)
    mel, got = gradients(lambda: decoder(memory, frames, lengths)[:2])
    torch.testing.assert_close(mel, expected_mel, atol=1e-5, rtol=1e-4)
    assert set(got) == set(expected)
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize('in_ch, out_ch, kernel, dilation, padding', CONV_SHAPES)
def test_int8_conv_matches_conv(in_ch, out_ch, kernel, dilation, padding):
    conv = nn.Conv1d(in_ch, out_ch, kernel, dilation=dilation, padding=padding)
    x = torch.randn(2, in_ch, 37)
    with torch.no_grad():
        expected, got = conv(x), precision.Int8Conv1d(conv)(x)
    assert got.shape == expected.shape
    assert not torch.equal(got, expected)
    assert snr_db(expected, got) > 30


def test_int8_linear_matches_linear_on_any_leading_shape():
    linear = nn.Linear(96, 48)
    x = torch.randn(3, 5, 96)
    with torch.no_grad():
        expected, got = linear(x), precision.Int8Linear(linear)(x)
    assert got.shape == expected.shape
    assert snr_db(expected, got) > 30


@pytest.mark.parametrize('conv', [nn.Conv1d(8, 8, 3, groups=2), nn.Conv1d(8, 8, 3, stride=2)])
def test_int8_conv_refuses_what_it_cannot_compute(conv):
    with pytest.raises(ValueError, match='only stride 1, groups 1'):
        precision.Int8Conv1d(conv)


def test_quantize_int8_copies_and_keeps_small_layers_exact():
    model = models.get_model('FastPitch', tiny_config('FastPitch'), 'cpu')
    quantized = precision.quantize_int8(model, min_weights=TEST_MIN_WEIGHTS)
    assert isinstance(model.encoder.layers[0].pos_ff.CoreNet[0], nn.Conv1d)          # original untouched
    assert isinstance(quantized.encoder.layers[0].pos_ff.CoreNet[0], precision.Int8Conv1d)
    assert isinstance(quantized.encoder.layers[0].dec_attn.qkv_net, precision.Int8Linear)
    assert type(quantized.duration_predictor.fc) is nn.Linear                          # 16 weights: stays fp32
    assert type(quantized.pitch_emb) is nn.Conv1d


def test_quantize_int8_default_threshold_covers_the_big_layers_only():
    torch.manual_seed(0)
    model = models.get_model('Tacotron2', tiny_config('Tacotron2'), 'cpu')
    quantized = precision.quantize_int8(model)
    # the tiny model's convolutions are below the default threshold, its recurrent cells are always quantized
    assert type(quantized.encoder.convolutions[0][0].conv) is nn.Conv1d
    assert type(quantized.decoder.attention_rnn) is not nn.LSTMCell


def _fp32_and_reduced(model, mode, run):
    """run(model) in fp32 and at `mode` (int8: on a quantized copy), each seeded alike (Tacotron 2's prenet
    dropout stays on at inference and must draw the same masks)."""
    def outputs(m, run_mode):
        torch.manual_seed(5)
        with torch.no_grad(), precision.Precision('cpu', run_mode).autocast():
            return run(m)
    reduced_model = precision.quantize_int8(model, TEST_MIN_WEIGHTS) if mode == 'int8' else model
    return outputs(model, 'fp32'), outputs(reduced_model, mode)


@pytest.mark.filterwarnings('ignore:Tacotron2. 1 of 1 inputs reached max_decoder_steps')  # 30 steps are wanted
@pytest.mark.parametrize('mode', ['int8', 'bf16'])
def test_tacotron2_mel_l1_is_small(mode):
    config = tiny_config('Tacotron2')
    config.update(max_decoder_steps=30, decoder_no_early_stopping=True)
    model = models.get_model('Tacotron2', config, 'cpu').eval()
    text, lengths = _symbols()
    expected, got = _fp32_and_reduced(model, mode, lambda m: m.infer(text, lengths)[0])
    l1 = mel_l1(expected, got)
    assert 0 < l1 < 0.01, f'{mode} mel L1 {l1} (mean |mel| {expected.abs().mean():.3f})'


@pytest.mark.parametrize('mode', ['int8', 'bf16'])
def test_fastpitch_mel_l1_is_small(mode):
    model = models.get_model('FastPitch', tiny_config('FastPitch'), 'cpu').eval()
    text, lengths = _symbols()
    durations = torch.full_like(text, 3)
    expected, got = _fp32_and_reduced(model, mode, lambda m: m.infer(text, lengths, dur_tgt=durations)[0])
    l1 = mel_l1(expected, got)
    assert 0 < l1 < 0.02, f'{mode} mel L1 {l1} (mean |mel| {expected.abs().mean():.3f})'


@pytest.mark.parametrize('mode', ['int8', 'bf16'])
def test_waveglow_sigma0_snr_is_high(mode):
    model = models.get_model('WaveGlow', tiny_config('WaveGlow'), 'cpu')
    with torch.no_grad():  # WN.end starts at zero, which would make every coupling layer the identity
        for wn in model.WN:
            wn.end.weight.normal_(std=0.1)
            wn.end.bias.normal_(std=0.1)
    model = model.remove_weightnorm(model).eval()
    mel = torch.randn(1, 80, 8)
    snr = snr_db(*_fp32_and_reduced(model, mode, lambda m: m.infer(mel, sigma=0.0)))
    assert 30 < snr < float('inf'), f'{mode} SNR {snr:.1f} dB'


def test_bf16_training_loss_close_to_fp32():
    model = models.get_model('FastPitch', tiny_config('FastPitch'), 'cpu').train()
    text = torch.randint(1, 148, (2, 12))
    lengths = torch.full((2,), 12)
    durations = torch.full((2, 12), 2)
    mel = torch.randn(2, 80, 24)
    pitch = torch.randn(2, 12)
    inputs = [text, lengths, mel, torch.full((2,), 24), durations, lengths, pitch]

    def loss(mode):
        torch.manual_seed(1)  # same dropout masks
        with precision.Precision('cpu', mode).autocast():
            value, _ = FastPitchLoss()(model(inputs), [mel, durations, lengths, pitch])
        value.backward()
        return value.item()

    fp32, bf16 = loss('fp32'), loss('bf16')
    assert bf16 != fp32
    assert abs(bf16 - fp32) < 0.02 * abs(fp32)


def test_unknown_or_untrainable_precision_is_a_clear_error():
    with pytest.raises(precision.PrecisionError, match="fp32, fp16, bf16, int8, got 'fp8'"):
        precision.Precision('cpu', 'fp8')
    with pytest.raises(precision.PrecisionError, match='needs a CUDA device'):
        precision.resolve_precision(torch.device('cpu'), True, 'fp16')


# ---- TF32 switches on the torch versions we support

def torch_2_5_backends():
    """A stand-in for torch 2.5's torch.backends (NGC 24.x images): the allow_tf32 switches, no fp32_precision."""
    return SimpleNamespace(cudnn=SimpleNamespace(enabled=True, benchmark=False, allow_tf32=True),
                           cuda=SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False)))


def backends_without_legacy_switches():
    """A stand-in for a torch that has only the per-backend fp32_precision modes of torch 2.9+."""
    def mode():
        return SimpleNamespace(fp32_precision='none')
    return SimpleNamespace(cudnn=SimpleNamespace(enabled=True, benchmark=False, conv=mode(), rnn=mode()),
                           cuda=SimpleNamespace(matmul=mode()))


@pytest.fixture
def ampere_gpu(monkeypatch):
    """configure_backends' view of an Ampere-or-newer GPU, on any machine (no CUDA call is made)."""
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda device=None: (9, 0))
    return torch.device('cuda')


@pytest.fixture
def restored_backends():
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.enabled,
             torch.backends.cudnn.benchmark)
    yield
    (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.enabled,
     torch.backends.cudnn.benchmark) = saved


@pytest.mark.parametrize('tf32', [True, False])
def test_tf32_on_torch_2_5(ampere_gpu, tf32):
    backends = torch_2_5_backends()
    assert precision.configure_backends(ampere_gpu, True, True, tf32, backends=backends) is tf32
    assert backends.cuda.matmul.allow_tf32 is tf32 and backends.cudnn.allow_tf32 is tf32
    assert backends.cudnn.benchmark is True


@pytest.mark.parametrize('tf32, matmul_precision', [(True, 'high'), (False, 'highest'), (True, 'high')])
def test_tf32_on_this_torch_switches_matmuls_convolutions_and_rnns(ampere_gpu, restored_backends, tf32,
                                                                   matmul_precision):
    assert precision.configure_backends(ampere_gpu, True, False, tf32) is tf32
    backends = torch.backends
    # torch answers these only while its switches agree
    assert backends.cudnn.allow_tf32 is tf32 and backends.cuda.matmul.allow_tf32 is tf32
    assert torch.get_float32_matmul_precision() == matmul_precision
    assert (backends.cudnn.rnn.fp32_precision == 'tf32') is tf32  # --no-tf32 reaches the RNNs too


@pytest.mark.parametrize('tf32, mode', [(True, 'tf32'), (False, 'ieee')])
def test_tf32_on_a_torch_with_only_the_new_modes(ampere_gpu, tf32, mode):
    backends = backends_without_legacy_switches()
    assert precision.configure_backends(ampere_gpu, True, False, tf32, backends=backends) is tf32
    assert {backends.cuda.matmul.fp32_precision, backends.cudnn.conv.fp32_precision,
            backends.cudnn.rnn.fp32_precision} == {mode}


def test_tf32_stays_off_on_the_cpu(restored_backends):
    assert precision.configure_backends(torch.device('cpu'), True, False, True) is False
    assert torch.backends.cuda.matmul.allow_tf32 is False


def test_bf16_is_refused_on_gpus_without_native_bf16(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'get_device_capability', lambda device=None: (7, 0))  # V100: emulated bf16
    monkeypatch.setattr(torch.cuda, 'get_device_name', lambda device=None: 'Tesla V100')
    with pytest.raises(precision.PrecisionError, match='Tesla V100 has no native bf16'):
        precision.resolve_precision(torch.device('cuda'), True, 'bf16')
    assert precision.resolve_precision(torch.device('cuda'), True, 'fp16').uses_loss_scaling


def test_vnni_is_read_from_the_cpu_flags(tmp_path):
    from common.int8 import cpu_has_vnni
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('flags\t\t: fpu sse avx2 avx512f avx512_vnni\n')
    assert cpu_has_vnni(cpuinfo)
    cpuinfo.write_text('flags\t\t: fpu sse avx2 fma\n')  # AVX2 only: 7-bit activations
    assert not cpu_has_vnni(cpuinfo)
    assert not cpu_has_vnni(tmp_path / 'missing')
