"""models.py: building models and loading them from every checkpoint format we accept."""
import pickle

import pytest
import torch

import models
from common.checkpoint import CheckpointError, save_checkpoint
from tests.tiny_configs import tiny_config, tiny_model

GOLDEN = {'Tacotron2': 'golden_tacotron2', 'WaveGlow': 'golden_waveglow', 'FastPitch': 'golden_fastpitch10'}


def assert_same_weights(model, state_dict):
    loaded = model.state_dict()
    for key, value in state_dict.items():
        assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize('model_name', ['Tacotron2', 'FastPitch'])
def test_reference_checkpoint_with_module_prefix_loads(model_name, reference_dir, load_reference, tmp_path):
    checkpoint = load_reference(GOLDEN[model_name] + '_ckpt.pt')
    # as saved under multi-GPU DDP: every key starts with `module.`
    wrapped = dict(checkpoint, state_dict={'module.' + k: v for k, v in checkpoint['state_dict'].items()})
    path = tmp_path / 'ddp.pt'
    save_checkpoint(wrapped, path)
    model = models.load_model_from_checkpoint(model_name, path)
    assert not model.training
    assert_same_weights(model, checkpoint['state_dict'])


def test_reference_waveglow_checkpoint_loads_with_weight_norm_removed(reference_dir, load_reference):
    path = reference_dir / 'golden_waveglow_ckpt.pt'
    model = models.load_model_from_checkpoint('WaveGlow', path)
    golden = load_reference('golden_waveglow.pt')
    assert list(model.state_dict()) == golden['outputs']['state_dict_after_remove_weightnorm_keys']
    mel = golden['inputs']['mel']
    audio = model.infer(mel, sigma=0.0)
    torch.testing.assert_close(audio, golden['outputs']['infer_sigma0'], atol=1e-4, rtol=1e-4)


def test_waveglow_256_state_dict_without_config_loads_without_being_told_its_size(tmp_path):
    # a bare state dict of a 256-channel WaveGlow (training form, weight-normed), sizes unlike the defaults
    source = tiny_model('WaveGlow', ['--wn-channels', '256', '--n-mel-channels', '8'])
    path = tmp_path / 'bare.pt'
    save_checkpoint(source.state_dict(), path)
    model = models.load_model_from_checkpoint('WaveGlow', path)
    assert model.WN[0].start.weight.shape[0] == 256
    mel = torch.randn(1, 8, 4)
    expected = models.model_spec('WaveGlow').prepare_for_inference(source).eval().infer(mel, sigma=0.0)
    torch.testing.assert_close(model.infer(mel, sigma=0.0), expected)


def test_our_checkpoint_round_trips_with_its_config(tmp_path):
    config = tiny_config('Tacotron2')
    source = tiny_model('Tacotron2')
    path = tmp_path / 'ours.pt'
    save_checkpoint({'model_name': 'Tacotron2', 'epoch': 1, 'config': config, 'state_dict': source.state_dict()},
                    path)
    model = models.load_model_from_checkpoint('Tacotron2', path)
    assert_same_weights(model, source.state_dict())


def test_checkpoint_of_another_model_is_named_in_the_error(tmp_path):
    path = tmp_path / 'vocoder.pt'
    save_checkpoint({'state_dict': tiny_model('WaveGlow').state_dict()}, path)
    with pytest.raises(CheckpointError, match=r'vocoder.pt: holds a WaveGlow checkpoint, not Tacotron2'):
        models.load_model_from_checkpoint('Tacotron2', path)


def test_state_dict_that_does_not_fit_the_stored_config_is_an_error(tmp_path):
    path = tmp_path / 'mismatch.pt'
    save_checkpoint({'config': tiny_config('FastPitch', ['--symbols-embedding-dim', '48']),
                     'state_dict': tiny_model('FastPitch').state_dict()}, path)
    with pytest.raises(CheckpointError, match=r'mismatch.pt: does not fit a FastPitch'):
        models.load_model_from_checkpoint('FastPitch', path)


class PickledVocoder(torch.nn.Module):
    """Stands for a whole model object pickled into a checkpoint, as NVIDIA/waveglow saves them."""


def test_pickled_model_object_is_refused_without_the_flag(tmp_path):
    path = tmp_path / 'pickled.pt'
    torch.save({'model': PickledVocoder(), 'iteration': 10}, path, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    with pytest.raises(CheckpointError, match='runs code from the file.*--allow-pickle'):
        models.load_model_from_checkpoint('WaveGlow', path)


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError,
                       match='unknown model .MelGAN.; choose one of Tacotron2, WaveGlow, FastPitch, HiFiGAN'):
        models.model_spec('MelGAN')
