"""HiFi-GAN against NVIDIA's reference (DLE HEAD): state-dict layouts at the default sizes, every golden checkpoint
format, and every golden output within GOLDEN.md's tolerances (generator, discriminators, losses, mel, denoiser).

Run with -s to see the largest absolute difference of every golden output.
"""
import argparse
import copy
import functools
import json

import pytest
import soundfile as sf
import torch

import models
from common.checkpoint import CheckpointError, save_checkpoint
from common.data_args import add_audio_args
from hifigan.arg_parser import add_model_args, model_config
from hifigan import checkpoint_compat
from hifigan.checkpoint_compat import config_from_state_dict, to_stage_layout, training_checkpoint_from_dle
from hifigan.data_function import get_dataset
from hifigan.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.loss_function import MEL_LOSS_WEIGHT, MelLoss, discriminator_loss, feature_loss, generator_loss
from hifigan.mel import HiFiGANMel
from hifigan.model import Generator
from hifigan.synthesis import HiFiGANVocoder, hifigan_denoiser
from tests.reference_layout import assert_state_dict_layout, check_golden_output

check_audio = functools.partial(check_golden_output, atol=1e-5, rtol=1e-4)  # audio and feature maps
check_scores = functools.partial(check_golden_output, atol=1e-5, rtol=0.0)
check_mel = functools.partial(check_golden_output, atol=1e-4, rtol=0.0)
check_loss = functools.partial(check_golden_output, atol=0.0, rtol=1e-5)
check_buffers = functools.partial(check_golden_output, atol=1e-5, rtol=0.0)  # spectral norm, denoiser


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference('golden_hifigan.pt')


@pytest.fixture(scope='module')
def generator_file(load_reference):
    return load_reference('golden_hifigan_gen_ckpt.pt')


@pytest.fixture(scope='module')
def discriminator_file(load_reference):
    return load_reference('golden_hifigan_discrim_ckpt.pt')


@pytest.fixture
def generator(generator_file):
    model = Generator(**generator_file['config'])
    model.load_state_dict(generator_file['generator'])  # strict
    return model.eval()


@pytest.fixture
def discriminators(golden, discriminator_file):
    """(mpd, msd) at the golden widths (channel divisor 16), eval mode, strictly loaded."""
    divisor = golden['discriminator_config']['channel_div']
    mpd = MultiPeriodDiscriminator(golden['discriminator_config']['mpd_periods'], channel_divisor=divisor)
    msd = MultiScaleDiscriminator(channel_divisor=divisor)
    mpd.load_state_dict(discriminator_file['mpd'])
    msd.load_state_dict(discriminator_file['msd'])
    return mpd.eval(), msd.eval()


def default_args(*flags):
    return add_model_args(add_audio_args(argparse.ArgumentParser())).parse_args(list(flags))


# ---------------------------------------------------------------- layouts and configs

def test_generator_state_dict_layout_matches_reference(reference_dir):
    with torch.device('meta'):
        model = Generator(**model_config(default_args()))
    assert_state_dict_layout(model, reference_dir / 'hifigan_state_dict.tsv')


@pytest.mark.parametrize('name, build', [('mpd', MultiPeriodDiscriminator), ('msd', MultiScaleDiscriminator)])
def test_discriminator_state_dict_layouts_match_reference(reference_dir, name, build):
    with torch.device('meta'):
        model = build()
    assert_state_dict_layout(model, reference_dir / f'hifigan_{name}_state_dict.tsv')


def test_default_flags_give_the_published_v1_config_and_recipe(reference_dir):
    reference = json.loads((reference_dir / 'hifigan_config.json').read_text())
    args = default_args()
    assert model_config(args) == {**reference['config'], 'n_mel_channels': 80}
    setup = reference['train_setup_defaults']
    assert (args.segment_size, args.mel_fmax_loss, args.lr_decay) == (setup['segment_size'], setup['mel_fmax_loss'],
                                                                      setup['lr_decay'])
    assert (args.optimizer, args.optimizer_betas) == ('adamw', reference['train_py_defaults_relevant']['adam_betas'])
    assert args.mpd_periods == [2, 3, 5, 7, 11]


def test_v3_config_is_reachable_by_flags():
    args = default_args('--resblock', '2', '--upsample-rates', '8', '8', '4', '--upsample-kernel-sizes', '16', '16',
                        '8', '--upsample-initial-channel', '256', '--resblock-kernel-sizes', '3', '5', '7',
                        '--resblock-dilation-sizes', '1,2', '[2, 6]', '3,12')
    config = model_config(args)
    assert config['resblock_dilation_sizes'] == [[1, 2], [2, 6], [3, 12]]
    model = Generator(**config)
    assert model.hop_length == 256 and type(model.resblocks[0][0]).__name__ == 'ResBlock2'


def test_upsampling_that_is_not_the_hop_length_is_a_one_line_error(generator):
    with pytest.raises(ValueError, match=r'--upsample-rates 8 8 2 make 128 samples per mel frame, but --hop-length '
                                         r'is 256'):
        model_config(default_args('--upsample-rates', '8', '8', '2', '--upsample-kernel-sizes', '16', '16', '4'))
    inference_args = argparse.Namespace(hop_length=128, hifigan='v.pt', hifigan_denoising_strength=0.0)
    with pytest.raises(ValueError, match=r'^--hifigan v.pt: the HiFi-GAN makes 256 samples per mel frame .*but '
                                         r'--hop-length is 128$'):
        HiFiGANVocoder(generator, inference_args)


# ---------------------------------------------------------------- checkpoint formats

def _saved(tmp_path, name, checkpoint):
    path = tmp_path / name
    save_checkpoint(checkpoint, path)
    return path


def _assert_vocodes_golden(model, golden, call):
    assert not model.training and not model.has_weight_norm()
    with torch.no_grad():
        check_audio(call, 'audio', model(golden['inputs']['mel']), golden['outputs']['generator_remove_weight_norm'])


@pytest.mark.parametrize('prefix', ['', 'module.'])
def test_dle_generator_file_loads_for_synthesis(reference_dir, generator_file, golden, tmp_path, prefix):
    path = reference_dir / 'golden_hifigan_gen_ckpt.pt'
    if prefix:  # as written from a DDP-wrapped generator
        path = _saved(tmp_path, 'ddp.pt', dict(generator_file, generator={
            prefix + key: value for key, value in generator_file['generator'].items()}))
    _assert_vocodes_golden(models.load_model_from_checkpoint('HiFiGAN', path), golden, f'load_dle{prefix}')


def test_jik876_generator_file_loads_with_its_sizes_read_off_the_tensors(reference_dir, load_reference,
                                                                         generator_file, golden):
    jik876 = load_reference('golden_hifigan_jik876_gen_ckpt.pt')['generator']
    assert any(key.count('.') == 4 and key.startswith('resblocks.') for key in jik876)  # resblocks.N.convs1.i.x
    assert config_from_state_dict(jik876) == {**generator_file['config'], 'n_mel_channels': 80}
    assert to_stage_layout(jik876).keys() == generator_file['generator'].keys()
    model = models.load_model_from_checkpoint('HiFiGAN', reference_dir / 'golden_hifigan_jik876_gen_ckpt.pt')
    _assert_vocodes_golden(model, golden, 'load_jik876')


@pytest.mark.parametrize('folded', [False, True])
def test_bare_generator_state_dicts_load(generator, golden, tmp_path, folded):
    state_dict = copy.deepcopy(generator).remove_weight_norm().state_dict() if folded else generator.state_dict()
    path = _saved(tmp_path, 'bare.pt', state_dict)
    _assert_vocodes_golden(models.load_model_from_checkpoint('HiFiGAN', path), golden, f'load_bare_folded{folded}')


def test_kernel_order_is_read_from_the_tensors_and_a_contradicting_config_is_an_error(tmp_path):
    torch.manual_seed(0)
    config = {**model_config(default_args('--upsample-initial-channel', '32')), 'resblock_kernel_sizes': [11, 7, 3]}
    dle_head_order = Generator(**config)  # DLE HEAD's parser default order
    assert config_from_state_dict(dle_head_order.state_dict())['resblock_kernel_sizes'] == [11, 7, 3]
    bare = _saved(tmp_path, 'bare.pt', dle_head_order.state_dict())
    assert models.load_model_from_checkpoint('HiFiGAN', bare).resblocks[0][0].convs1[0].kernel_size == (11,)
    wrong = _saved(tmp_path, 'wrong.pt', {'generator': dle_head_order.state_dict(),
                                          'config': {**config, 'resblock_kernel_sizes': [3, 7, 11]}})
    with pytest.raises(CheckpointError, match=r'wrong.pt: does not fit a HiFiGAN of its config \(its residual '
                                              r'blocks have kernel sizes \[11, 7, 3\] but its config says \[3, 7, '
                                              r'11\]'):
        models.load_model_from_checkpoint('HiFiGAN', wrong)


def test_discriminator_file_loads_strictly_and_alone_is_a_one_line_error(reference_dir, discriminators):
    # the fixture loads its mpd and msd strictly into ours at the golden widths
    with pytest.raises(CheckpointError, match=r'golden_hifigan_discrim_ckpt.pt: holds only HiFi-GAN discriminators '
                                              r'\(mpd, msd\), no generator') as error:
        models.load_model_from_checkpoint('HiFiGAN', reference_dir / 'golden_hifigan_discrim_ckpt.pt')
    assert '\n' not in str(error.value)


def test_dle_file_pair_merges_into_one_training_checkpoint(generator_file, discriminator_file, discriminators):
    merged = training_checkpoint_from_dle(generator_file, discriminator_file)
    assert merged['config'] == generator_file['config'] and merged['state_dict'] is generator_file['generator']
    assert {'mpd', 'msd', 'optim_g', 'optim_d', 'scaler_g', 'scaler_d'} <= set(merged)
    mpd, msd = discriminators
    # DLE's optimizer of the discriminators covers chain(msd, mpd): its parameter count is theirs
    assert len(merged['optim_d']['param_groups'][0]['params']) == len([*msd.parameters(), *mpd.parameters()])


def test_merging_command_writes_a_checkpoint_and_names_a_wrong_file(reference_dir, golden, tmp_path, capsys):
    generator_path = str(reference_dir / 'golden_hifigan_gen_ckpt.pt')
    discriminator_path = str(reference_dir / 'golden_hifigan_discrim_ckpt.pt')
    assert checkpoint_compat.main([generator_path, discriminator_path, str(tmp_path / 'merged.pt')]) == 0
    _assert_vocodes_golden(models.load_model_from_checkpoint('HiFiGAN', tmp_path / 'merged.pt'), golden, 'merged')
    assert checkpoint_compat.main([generator_path, generator_path, str(tmp_path / 'wrong.pt')]) == 1
    assert capsys.readouterr().err == (f'error: {generator_path}: not a DLE HiFi-GAN discriminator file (no mpd, '
                                       'msd entries)\n')


def test_a_waveglow_checkpoint_is_named_in_the_error(reference_dir):
    with pytest.raises(CheckpointError, match=r'holds a WaveGlow checkpoint, not HiFiGAN$'):
        models.load_model_from_checkpoint('HiFiGAN', reference_dir / 'golden_waveglow_ckpt.pt')


# ---------------------------------------------------------------- golden outputs

def test_mel_spectrograms_match_golden(golden):
    audio = golden['inputs']['audio'][:, 0]
    for fmax, name in ((8000.0, 'mel'), (None, 'mel_loss')):
        check_mel('mel_spectrogram', name, HiFiGANMel(mel_fmax=fmax)(audio),
                  golden['outputs']['mel_spectrogram'][name])


def test_training_data_reads_a_wav_as_the_reference_does(golden, tmp_path):
    """The golden inputs were written as 22.05 kHz PCM16 and read back by the reference dataset: peak-normalised
    audio, then both mels. A segment as long as the clip takes it whole."""
    (tmp_path / 'wavs').mkdir()
    for index, samples in enumerate(golden['inputs']['audio_int16']):
        sf.write(tmp_path / 'wavs' / f'clip{index}.wav', samples.numpy(), 22050, subtype='PCM_16')
    filelist = tmp_path / 'filelist.txt'
    filelist.write_text('wavs/clip0.wav|first\nwavs/clip1.wav|second\n')
    dataset = get_dataset(_data_args(tmp_path), filelist)
    for index in range(2):
        mel, audio, loss_mel = dataset[index]
        check_audio('dataset', f'audio[{index}]', audio, golden['inputs']['audio'][index])
        check_mel('dataset', f'mel[{index}]', mel, golden['inputs']['mel'][index])
        check_mel('dataset', f'mel_loss[{index}]', loss_mel, golden['inputs']['mel_loss'][index])


def _data_args(dataset_path):
    args = default_args('--segment-size', '1536')
    args.dataset_path = str(dataset_path)
    return args


def test_generator_matches_golden_before_and_after_weight_norm_removal(generator, golden):
    mel = golden['inputs']['mel']
    with torch.no_grad():
        check_audio('generator', 'audio', generator(mel), golden['outputs']['generator'])
        folded = copy.deepcopy(generator).remove_weight_norm()
        assert list(folded.state_dict()) == golden['outputs']['state_dict_after_remove_weight_norm_keys']
        check_audio('generator_remove_wn', 'audio', folded(mel), golden['outputs']['generator_remove_weight_norm'])


def _check_discriminator_outputs(call, outputs, expected):
    for name, values in zip(('y_d_rs', 'y_d_gs'), outputs[:2]):
        assert len(values) == len(expected[name])
        for i, (ours, reference) in enumerate(zip(values, expected[name])):
            check_scores(call, f'{name}[{i}]', ours, reference)
    for name, maps in zip(('fmap_rs', 'fmap_gs'), outputs[2:]):
        for i, (ours, reference) in enumerate(zip(maps, expected[name])):
            assert len(ours) == len(reference)
            for j, (our_map, reference_map) in enumerate(zip(ours, reference)):
                check_audio(call, f'{name}[{i}][{j}]', our_map, reference_map)


def test_discriminators_match_golden(discriminators, golden):
    mpd, msd = discriminators
    real, fake = golden['inputs']['audio'], golden['outputs']['generator']
    with torch.no_grad():
        _check_discriminator_outputs('mpd', mpd(real, fake), golden['outputs']['mpd'])
        _check_discriminator_outputs('msd', msd(real, fake), golden['outputs']['msd'])


def test_msd_in_train_mode_iterates_its_spectral_norm_as_the_reference(discriminators, golden):
    _, msd = discriminators
    expected = golden['outputs']['msd_train_mode']
    msd.train()
    with torch.no_grad():
        real_scores, fake_scores, _, _ = msd(golden['inputs']['audio'], golden['outputs']['generator'])
    for i, (real, fake) in enumerate(zip(real_scores, fake_scores)):
        check_scores('msd_train_mode', f'y_d_rs[{i}]', real, expected['y_d_rs'][i])
        check_scores('msd_train_mode', f'y_d_gs[{i}]', fake, expected['y_d_gs'][i])
    state = msd.state_dict()
    for name, buffer in expected['spectral_norm_buffers_after'].items():
        check_buffers('msd_train_mode', name, state[name], buffer)


def test_losses_match_golden(discriminators, golden):
    mpd, msd = discriminators
    real, fake, expected = golden['inputs']['audio'], golden['outputs']['generator'], golden['outputs']['losses']
    with torch.no_grad():
        mpd_real, mpd_fake, mpd_real_maps, mpd_fake_maps = mpd(real, fake)
        msd_real, msd_fake, msd_real_maps, msd_fake_maps = msd(real, fake)
        mel_loss = MelLoss(HiFiGANMel(mel_fmax=None))
        check_mel('losses', 'y_g_hat_mel', mel_loss.loss_mel(fake[:, 0]), expected['y_g_hat_mel'])
        loss_mel = MEL_LOSS_WEIGHT * mel_loss(fake, (real, golden['inputs']['mel_loss']))
        check_golden_output('losses', 'loss_mel', loss_mel, expected['loss_mel'], atol=0.0, rtol=1e-4)
        ours = {'loss_disc_f': discriminator_loss(mpd_real, mpd_fake),
                'loss_disc_s': discriminator_loss(msd_real, msd_fake),
                'loss_fm_f': feature_loss(mpd_real_maps, mpd_fake_maps),
                'loss_fm_s': feature_loss(msd_real_maps, msd_fake_maps)}
        ours['loss_gen_f'], losses_gen_f = generator_loss(mpd_fake)
        ours['loss_gen_s'], losses_gen_s = generator_loss(msd_fake)
        ours['loss_disc_all'] = ours['loss_disc_s'] + ours['loss_disc_f']
        ours['loss_gen_all'] = (ours['loss_gen_s'] + ours['loss_gen_f'] + ours['loss_fm_s'] + ours['loss_fm_f']
                                + loss_mel)
    for name, value in ours.items():
        # the total holds loss_mel, whose tolerance is the looser one
        check_golden_output('losses', name, value, expected[name], atol=0.0,
                            rtol=1e-4 if name == 'loss_gen_all' else 1e-5)
    for name, values in (('losses_gen_f', losses_gen_f), ('losses_gen_s', losses_gen_s)):
        for i, (value, reference) in enumerate(zip(values, expected[name])):
            check_loss('losses', f'{name}[{i}]', value, reference)


def test_denoiser_matches_golden(generator, golden):
    expected = golden['outputs']['denoiser']
    folded = copy.deepcopy(generator).remove_weight_norm()
    denoiser = hifigan_denoiser(folded)
    check_buffers('denoiser', 'bias_spec', denoiser.bias_spec, expected['bias_spec'])
    audio = golden['outputs']['generator_remove_weight_norm'][:, 0]
    for strength in (0.005, 0.1):
        check_buffers('denoiser', f'denoised_{strength}', denoiser(audio, strength=strength)[:, None],
                      expected[f'denoised_{strength}'])
