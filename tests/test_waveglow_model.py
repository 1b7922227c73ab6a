"""WaveGlow behaviour on tiny random models: invertibility, noise order, caching, weight-norm folding, errors,
the loss formula, the flags and the NVIDIA/waveglow checkpoint layout."""
import argparse

import pytest
import torch

from common.data_args import add_audio_args
from tests.tiny_configs import tiny_config, tiny_model
from waveglow.arg_parser import add_model_args, model_config
from waveglow.checkpoint_compat import config_from_state_dict, convert_nvidia_state_dict, has_weight_norm
from waveglow.loss_function import WaveGlowLoss
from waveglow.model import WaveGlow

# 6 flows so that two early outputs (before flows 2 and 4) are exercised; few mel bands because the upsampler
# has n_mel^2 * 1024 weights.
TINY_EXTRA_FLAGS = ['--flows', '6', '--n-mel-channels', '4']
TINY_CONFIG = tiny_config('WaveGlow', TINY_EXTRA_FLAGS)
N_FRAMES = 6


def tiny_waveglow(seed=0):
    """A tiny WaveGlow whose coupling layers are not the identity (WN.end is zero-initialised otherwise)."""
    model = tiny_model('WaveGlow', TINY_EXTRA_FLAGS, seed=seed)
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(std=0.1)
            wn.end.bias.normal_(std=0.1)
    return model.eval()


@pytest.fixture
def model():
    return tiny_waveglow()


@pytest.fixture
def mel():
    return torch.randn(2, TINY_CONFIG['n_mel_channels'], N_FRAMES, generator=torch.Generator().manual_seed(1))


def test_forward_shapes_follow_the_early_outputs(model, mel):
    audio = torch.rand(2, N_FRAMES * 256) - 0.5
    z, log_s_list, log_det_W_list = model((mel, audio))
    assert z.shape == (2, 8, N_FRAMES * 256 // 8)
    # 8 channels in flows 0-1, 6 in flows 2-3, 4 in flows 4-5; log s covers the second half of each
    assert [tuple(log_s.shape) for log_s in log_s_list] == [(2, c, 192) for c in (4, 4, 3, 3, 2, 2)]
    assert all(log_det.shape == () for log_det in log_det_W_list)


def test_upsampling_is_the_transposed_convolution(model, mel):
    weight, bias = model.upsample.weight, model.upsample.bias  # (in, out, 1024), stride 256
    expected = bias[None, :, None].repeat(2, 1, (N_FRAMES - 1) * 256 + 1024)
    for t in range(N_FRAMES):  # frame t adds its kernel-long response at sample t * 256
        expected[:, :, t * 256:t * 256 + 1024] += torch.einsum('bi,iok->bok', mel[:, :, t], weight)
    with torch.no_grad():
        torch.testing.assert_close(model._upsample(mel), expected, atol=1e-6, rtol=1e-5)


def test_inverse_undoes_forward(model, mel):
    audio = torch.rand(2, N_FRAMES * 256) - 0.5
    with torch.no_grad():
        z, _, _ = model((mel, audio))
        restored = model.inverse(mel, z)
    assert restored.shape == audio.shape
    torch.testing.assert_close(restored, audio, atol=1e-5, rtol=0)


def test_sample_noise_draws_in_the_reference_order(model):
    torch.manual_seed(5)
    noise = model.sample_noise(2, 10, sigma=0.5)
    torch.manual_seed(5)
    last = torch.randn(2, 4, 10)    # the last flow's channels are drawn first,
    before_4 = torch.randn(2, 2, 10)  # then the early outputs from the last flow backwards
    before_2 = torch.randn(2, 2, 10)
    torch.testing.assert_close(noise, 0.5 * torch.cat([before_2, before_4, last], 1), atol=0, rtol=0)


def test_infer_is_inverse_of_scaled_noise(model, mel):
    torch.manual_seed(7)
    audio = model.infer(mel, sigma=0.6)
    torch.manual_seed(7)
    noise = model.sample_noise(2, N_FRAMES * 256 // 8, sigma=0.6)
    with torch.no_grad():
        expected = model.inverse(mel, noise)
    assert audio.shape == (2, N_FRAMES * 256)
    torch.testing.assert_close(audio, expected, atol=0, rtol=0)


def test_infer_sigma0_does_not_depend_on_the_seed(model, mel):
    torch.manual_seed(1)
    first = model.infer(mel, sigma=0.0)
    torch.manual_seed(2)
    second = model.infer(mel, sigma=0.0)
    torch.testing.assert_close(first, second, atol=0, rtol=0)
    assert first.abs().max() > 0


def test_inverse_weight_follows_weight_changes(model):
    convinv = model.convinv[0]
    weight = convinv.conv.weight
    # a write through .data (no version bump) and an optimizer-style in-place step under no_grad
    for update in (lambda: weight.data.mul_(2.0), lambda: weight.add_(0.1 * torch.randn_like(weight))):
        with torch.no_grad():
            update()
        identity = weight.squeeze(-1) @ convinv.inverse_weight().squeeze(-1)
        torch.testing.assert_close(identity, torch.eye(8), atol=1e-5, rtol=0)


def test_inverse_weight_is_not_in_the_state_dict(model, mel):
    keys = list(model.state_dict())
    model.infer(mel, sigma=0.0)
    assert list(model.state_dict()) == keys


def test_remove_weightnorm_keeps_outputs_and_is_idempotent(model, mel):
    audio = torch.rand(2, N_FRAMES * 256) - 0.5
    with torch.no_grad():
        z_before, _, _ = model((mel, audio))
    assert has_weight_norm(model.state_dict())
    WaveGlow.remove_weightnorm(WaveGlow.remove_weightnorm(model))
    state_dict = model.state_dict()
    assert not has_weight_norm(state_dict)
    n_channels = TINY_CONFIG['WN_config']['n_channels']
    assert state_dict['WN.0.in_layers.1.weight'].shape == (2 * n_channels, n_channels, 3)
    with torch.no_grad():
        z_after, _, _ = model((mel, audio))
    torch.testing.assert_close(z_after, z_before, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize('change, message', [
    ({'n_group': 7}, 'must be even'),
    ({'n_early_size': 3}, 'non-negative even'),
    ({'n_early_every': 1}, 'fewer than 2'),
    ({'n_flows': 0}, 'n_flows'),
    ({'WN_config': {'n_layers': 2, 'kernel_size': 4, 'n_channels': 16}}, 'must be odd'),
    ({'WN_config': {'n_layers': 2, 'n_channels': 16}}, 'WN_config needs exactly'),
])
def test_bad_config_is_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        WaveGlow(**{**TINY_CONFIG, **change})


def test_mel_too_short_for_the_audio_is_rejected(model, mel):
    with pytest.raises(ValueError, match='fewer than'):
        model((mel, torch.zeros(2, N_FRAMES * 256 + 1024)))


def test_inverse_rejects_wrong_channel_count(model, mel):
    with pytest.raises(ValueError, match='n_group'):
        model.inverse(mel, torch.zeros(2, 6, 10))


def test_loss_is_the_normalised_negative_log_likelihood():
    z = torch.tensor([[[1.0, -2.0], [0.5, 0.0]]])              # 4 elements, sum of squares 5.25
    log_s_list = [torch.tensor([[[0.25, 0.5]]]), torch.tensor([[[-1.0, 0.75]]])]  # sum 0.5
    log_det_W_list = [torch.tensor(2.0), torch.tensor(-0.5)]  # sum 1.5
    for sigma in (1.0, 0.5):
        expected = (5.25 / (2 * sigma ** 2) - 0.5 - 1.5) / 4
        loss = WaveGlowLoss(sigma=sigma)((z, log_s_list, log_det_W_list), None)
        assert loss.item() == pytest.approx(expected)
    assert log_det_W_list[0].item() == 2.0  # inputs are left untouched


def test_loss_gradient_reaches_the_model(model, mel):
    audio = torch.rand(2, N_FRAMES * 256) - 0.5
    model.train()
    loss = WaveGlowLoss()(model((mel, audio)), audio)
    loss.backward()
    assert model.WN[0].start.weight_v.grad.abs().sum() > 0
    assert model.convinv[0].conv.weight.grad.abs().sum() > 0


def test_model_config_maps_the_flags():
    parser = add_model_args(add_audio_args(argparse.ArgumentParser()))
    args = parser.parse_args(['--n-mel-channels', '4', '--flows', '6', '--groups', '8', '--early-every', '2',
                              '--early-size', '2', '--wn-layers', '2', '--wn-kernel-size', '3', '--wn-channels', '8'])
    assert model_config(args) == {'n_mel_channels': 4, 'n_flows': 6, 'n_group': 8, 'n_early_every': 2,
                                  'n_early_size': 2, 'WN_config': {'n_layers': 2, 'kernel_size': 3, 'n_channels': 8}}


def _to_nvidia_layout(state_dict):
    """NVIDIA/waveglow's WN: one cond_layer whose output channels stack the per-layer ones (layer 0 first)."""
    nvidia = {key: value for key, value in state_dict.items() if '.cond_layers.' not in key}
    n_layers = TINY_CONFIG['WN_config']['n_layers']
    for k in range(TINY_CONFIG['n_flows']):
        params = [key.split('.')[-1] for key in state_dict if key.startswith(f'WN.{k}.cond_layers.0.')]
        for param in params:
            nvidia[f'WN.{k}.cond_layer.{param}'] = torch.cat(
                [state_dict[f'WN.{k}.cond_layers.{i}.{param}'] for i in range(n_layers)])
    return nvidia


@pytest.mark.parametrize('fold', [False, True])
def test_nvidia_layout_converts_to_ours(fold, mel):
    source = tiny_waveglow(seed=3)
    if fold:
        WaveGlow.remove_weightnorm(source)
    nvidia = _to_nvidia_layout(source.state_dict())
    assert not any('.cond_layers.' in key for key in nvidia)

    converted = convert_nvidia_state_dict(nvidia)
    assert config_from_state_dict(converted) == TINY_CONFIG
    target = WaveGlow(**TINY_CONFIG)
    if fold:
        WaveGlow.remove_weightnorm(target)
    target.load_state_dict(converted)  # strict
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value, atol=0, rtol=0)
    torch.testing.assert_close(target.eval().infer(mel, sigma=0.0), source.infer(mel, sigma=0.0), atol=0, rtol=0)
    # a state dict already in our layout passes through
    assert list(convert_nvidia_state_dict(source.state_dict())) == list(source.state_dict())


def test_nvidia_cond_layer_that_does_not_split_is_rejected():
    nvidia = _to_nvidia_layout(tiny_waveglow().state_dict())
    nvidia['WN.0.cond_layer.bias'] = torch.zeros(33)
    with pytest.raises(ValueError, match='WN.0.cond_layer.bias: 33 output channels'):
        convert_nvidia_state_dict(nvidia)


def test_config_from_state_dict_without_early_outputs():
    config = {**TINY_CONFIG, 'n_flows': 2, 'n_early_every': 4}
    inferred = config_from_state_dict(WaveGlow(**config).state_dict())
    assert inferred['n_flows'] == 2 and inferred['n_group'] == 8
    # any early-output setting past the last flow builds the same layout
    assert [tuple(v.shape) for v in WaveGlow(**inferred).state_dict().values()] == \
        [tuple(v.shape) for v in WaveGlow(**config).state_dict().values()]


def test_config_from_state_dict_rejects_other_models():
    with pytest.raises(ValueError, match='no upsample.weight'):
        config_from_state_dict({'encoder.weight': torch.zeros(1)})
