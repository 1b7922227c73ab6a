"""WaveGlow against the NVIDIA reference: golden outputs, state-dict layout at the default sizes, default flags,
and configs recovered from bare state dicts.

Run with -s to see the largest absolute difference of every golden output.
"""
import argparse
import json

import pytest
import torch

from common.data_args import add_audio_args
from waveglow.arg_parser import add_model_args, model_config
from waveglow.checkpoint_compat import config_from_state_dict
from waveglow.loss_function import WaveGlowLoss
from waveglow.model import WaveGlow
from tests.reference_layout import assert_state_dict_layout, read_state_dict_tsv


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference('golden_waveglow.pt')


@pytest.fixture(scope='module')
def checkpoint(load_reference):
    return load_reference('golden_waveglow_ckpt.pt')


@pytest.fixture(scope='module')
def max_diffs():
    """Collects the largest absolute difference per golden output and prints them as a table at the end."""
    table = {}
    yield table
    print('\nWaveGlow golden parity, max |ours - reference|:')
    for name, diff in table.items():
        print(f'  {name:45s} {diff:.3e}')


@pytest.fixture
def model(checkpoint):
    model = WaveGlow(**checkpoint['config'])
    model.load_state_dict(checkpoint['state_dict'])  # strict
    return model.eval()


def _compare(max_diffs, name, ours, reference, atol, rtol):
    assert ours.shape == reference.shape, name
    max_diffs[name] = (ours - reference).abs().max().item()
    torch.testing.assert_close(ours, reference, atol=atol, rtol=rtol, msg=lambda m: f'{name}: {m}')


def test_forward_and_loss_match_golden(model, golden, max_diffs):
    inputs, expected = golden['inputs'], golden['outputs']['forward']
    with torch.no_grad():
        z, log_s_list, log_det_W_list = model((inputs['mel'], inputs['audio']))
        loss = WaveGlowLoss(sigma=1.0)((z, log_s_list, log_det_W_list), inputs['audio'])
    _compare(max_diffs, 'forward.z', z, expected['z'], atol=1e-5, rtol=0)
    assert len(log_s_list) == len(expected['log_s_list']) == len(log_det_W_list) == len(expected['log_det_W_list'])
    for k, (ours, reference) in enumerate(zip(log_s_list, expected['log_s_list'])):
        _compare(max_diffs, f'forward.log_s_list[{k}]', ours, reference, atol=1e-5, rtol=0)
    for k, (ours, reference) in enumerate(zip(log_det_W_list, expected['log_det_W_list'])):
        _compare(max_diffs, f'forward.log_det_W_list[{k}]', ours, reference, atol=0, rtol=1e-5)
    _compare(max_diffs, 'forward.loss_sigma1', loss, expected['loss_sigma1'], atol=0, rtol=1e-5)


def test_infer_sigma0_matches_golden(model, golden, max_diffs):
    audio = model.infer(golden['inputs']['mel'], sigma=0.0)
    _compare(max_diffs, 'infer_sigma0', audio, golden['outputs']['infer_sigma0'], atol=1e-4, rtol=1e-4)


def test_infer_sigma06_seeded_matches_golden(model, golden, max_diffs):
    torch.manual_seed(1237)
    audio = model.infer(golden['inputs']['mel'], sigma=0.6)
    _compare(max_diffs, 'infer_sigma0.6', audio, golden['outputs']['infer_sigma0.6'], atol=1e-4, rtol=1e-4)


def test_remove_weightnorm_matches_golden(model, golden, max_diffs):
    folded = WaveGlow.remove_weightnorm(model).eval()
    assert list(folded.state_dict()) == golden['outputs']['state_dict_after_remove_weightnorm_keys']
    audio = folded.infer(golden['inputs']['mel'], sigma=0.0)
    _compare(max_diffs, 'infer_sigma0_after_remove_weightnorm', audio,
             golden['outputs']['infer_sigma0_after_remove_weightnorm'], atol=1e-4, rtol=1e-4)


def test_config_from_golden_state_dict(model, checkpoint):
    assert config_from_state_dict(checkpoint['state_dict']) == checkpoint['config']
    assert config_from_state_dict(WaveGlow.remove_weightnorm(model).state_dict()) == checkpoint['config']


def _reference_json(reference_dir, n_channels):
    return json.loads((reference_dir / f'waveglow{n_channels}_config.json').read_text())


def _reference_config(reference_dir, n_channels):
    return _reference_json(reference_dir, n_channels)['config']


@pytest.mark.slow
@pytest.mark.parametrize('n_channels', [256, 512])
def test_state_dict_layout_matches_reference(reference_dir, n_channels):
    model = WaveGlow(**_reference_config(reference_dir, n_channels))
    assert_state_dict_layout(model, reference_dir / f'waveglow{n_channels}_state_dict.tsv')


def _shape_only_state_dict(entries, fold):
    """Meta tensors with the reference shapes; fold=True gives the layout after weight-norm removal
    (weight_g dropped, weight_v renamed to weight with its shape)."""
    state_dict = {}
    for name, shape, _ in entries:
        if fold and name.endswith('.weight_g'):
            continue
        if fold:
            name = name.removesuffix('_v')
        state_dict[name] = torch.empty(shape, device='meta')
    return state_dict


@pytest.mark.parametrize('fold', [False, True])
def test_config_from_256_channel_state_dict(reference_dir, fold):
    entries, _ = read_state_dict_tsv(reference_dir / 'waveglow256_state_dict.tsv')
    inferred = config_from_state_dict(_shape_only_state_dict(entries, fold))
    assert inferred == _reference_config(reference_dir, 256)


@pytest.mark.parametrize('flags, n_channels', [([], 512), (['--wn-channels', '256'], 256)])
def test_default_flags_give_reference_config(reference_dir, flags, n_channels):
    parser = add_model_args(add_audio_args(argparse.ArgumentParser()))
    args = parser.parse_args(flags)
    reference = _reference_json(reference_dir, n_channels)
    assert model_config(args) == reference['config']
    other = reference['other_defaults_not_in_config']
    assert (args.sigma, args.segment_length) == (other['sigma'], other['segment_length'])
