"""The HiFi-GAN package on its own: generator shapes and configs, weight-norm folding, the jik876 key layout, the
training data (windows, padding, fine-tuning mels), the vocoder and its images, and the benchmark floors against
the models themselves."""
import argparse
import copy

import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

import models
from common.checkpoint import save_checkpoint
from common.precision import Precision, quantize_int8
from hifigan.benchmark import discriminators_tally, generator_tally, infer_floor
from hifigan.checkpoint_compat import config_from_state_dict, to_stage_layout
from hifigan.data_function import SILENT_MEL, get_dataset, random_start
from hifigan.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from hifigan.fast_inference import PreparedGenerator, traced_generator
from hifigan.model import Generator, ResBlock2
from hifigan.synthesis import HiFiGANVocoder, validation_images
from tests.test_benchmarks import _counted_flops, _parameters
from tests.tiny_configs import tiny_args, tiny_config, tiny_model

V1_TINY = ['--resblock', '1', '--upsample-rates', '8', '8', '2', '2', '--upsample-kernel-sizes', '16', '16', '4',
           '4', '--upsample-initial-channel', '32', '--resblock-kernel-sizes', '3', '7',
           '--resblock-dilation-sizes', '1,3,5', '1,3,5']


@pytest.mark.parametrize('extra', [[], V1_TINY], ids=['v3_layout', 'v1_layout'])
def test_generator_makes_hop_samples_per_frame_in_range(extra):
    model = tiny_model('HiFiGAN', extra)
    audio = model(torch.randn(2, 80, 7))
    assert model.hop_length == 256 and audio.shape == (2, 1, 7 * 256)
    assert audio.abs().max() <= 1


def test_resblock2_uses_slope_0_1_where_the_reference_crashes():
    torch.manual_seed(0)
    block, x = ResBlock2(4, 3, [1, 2]), torch.randn(1, 4, 20)
    expected = x
    for conv in block.convs:
        expected = expected + conv(F.leaky_relu(expected, 0.1))
    torch.testing.assert_close(block(x), expected)


def test_weight_norm_folds_into_the_same_output_once():
    model = tiny_model('HiFiGAN', V1_TINY).eval()
    mel = torch.randn(1, 80, 6)
    with torch.no_grad():
        before = model(mel)
        folded = copy.deepcopy(model).remove_weight_norm()
        assert not folded.has_weight_norm() and not any('weight_g' in key for key in folded.state_dict())
        torch.testing.assert_close(folded.remove_weight_norm()(mel), before, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('change, problem', [
    ({'resblock': '3'}, r'resblock \(--resblock\) must be one of 1, 2'),
    ({'upsample_kernel_sizes': [16, 16, 8, 4]}, 'same length'),
    ({'upsample_kernel_sizes': [16, 16, 7]}, 'kernel 7 for rate 4'),
    ({'upsample_initial_channel': 36}, 'divisible by 2 \\*\\* 3'),
    ({'resblock_kernel_sizes': [3, 4]}, 'odd kernel sizes and 2 dilations'),
    ({'resblock_dilation_sizes': [[1, 2, 3], [2, 6]]}, 'odd kernel sizes and 2 dilations'),
])
def test_configs_that_cannot_build_a_generator_are_one_line_errors(change, problem):
    with pytest.raises(ValueError, match=problem) as error:
        Generator(**{**tiny_config('HiFiGAN'), **change})
    assert '\n' not in str(error.value)


def test_jik876_flat_keys_map_back_with_the_kernels_per_stage_read_off_the_tensors():
    model = tiny_model('HiFiGAN', V1_TINY)  # two kernels per stage (the reference assumes three)
    n_kernels = 2
    flat = {}
    for key, value in model.state_dict().items():
        if key.startswith('resblocks.'):
            _, stage, kernel, rest = key.split('.', 3)
            key = f'resblocks.{int(stage) * n_kernels + int(kernel)}.{rest}'
        flat[key] = value
    assert list(to_stage_layout(flat)) == list(model.state_dict())
    assert config_from_state_dict(flat) == tiny_config('HiFiGAN', V1_TINY)


def test_a_stored_state_dict_with_a_generator_of_another_hop_is_refused_for_synthesis(tmp_path):
    model = tiny_model('HiFiGAN', ['--upsample-rates', '8', '8', '2', '--upsample-kernel-sizes', '16', '16', '4',
                                   '--hop-length', '128'])
    path = tmp_path / 'hop128.pt'
    save_checkpoint({'generator': model.state_dict(), 'config': tiny_config('HiFiGAN', [
        '--upsample-rates', '8', '8', '2', '--upsample-kernel-sizes', '16', '16', '4', '--hop-length', '128'])}, path)
    loaded = models.load_model_from_checkpoint('HiFiGAN', path)
    args = argparse.Namespace(hop_length=256, hifigan=str(path), hifigan_denoising_strength=0.0)
    with pytest.raises(ValueError, match='makes 128 samples per mel frame .*but --hop-length is 256'):
        HiFiGANVocoder(loaded, args)


def test_a_warm_start_from_a_generator_of_another_hop_is_refused():
    model = tiny_model('HiFiGAN', ['--upsample-rates', '8', '8', '2', '--upsample-kernel-sizes', '16', '16', '4',
                                   '--hop-length', '128'])
    args = argparse.Namespace(hop_length=256, checkpoint_path='hop128.pt')
    with pytest.raises(ValueError, match='^--checkpoint-path hop128.pt: the HiFi-GAN makes 128 samples per mel '
                                         'frame'):
        models.model_spec('HiFiGAN').prepare_for_training(model, args)


def test_the_hub_entry_point_synthesizes_from_a_checkpoint(reference_dir):
    import hubconf
    vocoder, _, _ = hubconf.nvidia_hifigan(checkpoint=str(reference_dir / 'golden_hifigan_gen_ckpt.pt'))
    assert vocoder(torch.randn(1, 80, 3)).shape == (1, 3 * 256)  # forward() is infer()


# ---------------------------------------------------------------- data

def _write_clip(folder, name, samples):
    (folder / 'wavs').mkdir(exist_ok=True)
    sf.write(folder / 'wavs' / f'{name}.wav', samples.numpy(), 22050, subtype='FLOAT')


def _data_args(folder, *flags):
    args = tiny_args('HiFiGAN', ['--segment-size', '1024', *flags])
    args.dataset_path = str(folder)
    return args


def test_training_windows_are_peak_normalised_and_short_clips_padded(tmp_path):
    torch.manual_seed(0)
    _write_clip(tmp_path, 'long', 0.5 * torch.rand(5000) - 0.25)
    _write_clip(tmp_path, 'short', 0.1 * torch.rand(700))
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/long.wav|a\nwavs/short.wav|b\n')
    dataset = get_dataset(_data_args(tmp_path), filelist)
    mel, audio, loss_mel = dataset[0]
    assert mel.shape == loss_mel.shape == (80, 4) and audio.shape == (1, 1024)
    _, short_audio, _ = dataset[1]
    assert short_audio[0, 700:].abs().max() == 0 and short_audio.abs().max() == pytest.approx(0.95)


def test_fine_tuning_windows_take_the_audio_under_the_mel_frames(tmp_path):
    torch.manual_seed(0)
    samples = 0.5 * torch.rand(256 * 12) - 0.25
    _write_clip(tmp_path, 'clip', samples)
    (tmp_path / 'mels').mkdir()
    generated = torch.randn(80, 13)  # a TacotronSTFT-framed mel: one frame more than samples // hop
    torch.save(generated, tmp_path / 'mels' / 'clip.pt')
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/clip.wav|mels/clip.pt|a\n')
    dataset = get_dataset(_data_args(tmp_path, '--fine-tuning'), filelist)
    torch.manual_seed(5)
    mel, audio, loss_mel = dataset[0]
    torch.manual_seed(5)
    start = random_start(13, 4)
    assert torch.equal(mel, generated[:, start:start + 4])
    assert torch.equal(audio[0], F.pad(samples[start * 256:(start + 4) * 256], (0, 1024))[:1024])  # unnormalised
    assert loss_mel.shape == (80, 4)

    short = tmp_path / 'short.txt'
    torch.save(generated[:, :2], tmp_path / 'mels' / 'clip.pt')
    short.write_text('wavs/clip.wav|mels/clip.pt|a\n')
    mel, _, _ = get_dataset(_data_args(tmp_path, '--fine-tuning'), short)[0]
    assert torch.equal(mel[:, 2:], torch.full((80, 2), SILENT_MEL))


def test_segment_size_must_be_a_multiple_of_the_hop(tmp_path):
    filelist = tmp_path / 'list.txt'
    filelist.write_text('wavs/a.wav|a\n')
    with pytest.raises(ValueError, match='--segment-size 1000 must be a multiple of --hop-length 256'):
        get_dataset(_data_args(tmp_path, '--segment-size', '1000'), filelist)


# ---------------------------------------------------------------- synthesis

@pytest.mark.parametrize('strength', [0.0, 0.01])
def test_vocoder_returns_float_audio_with_or_without_the_denoiser(strength):
    model = tiny_model('HiFiGAN').remove_weight_norm().eval()
    args = argparse.Namespace(hop_length=256, hifigan='h.pt', hifigan_denoising_strength=strength)
    vocoder = HiFiGANVocoder(model, args)
    assert (vocoder.denoiser is not None) == (strength > 0)
    with torch.no_grad():
        audio = vocoder(torch.randn(2, 80, 6), Precision('cpu', 'bf16').autocast())
    assert audio.dtype == torch.float32 and audio.shape == (2, 6 * 256)


def _snr_db(reference, output):
    return 10 * torch.log10(reference.pow(2).mean() / (output - reference).pow(2).mean()).item()


def test_int8_generator_calibrates_on_its_first_mel_then_runs_quantized_close_to_float():
    model = tiny_model('HiFiGAN', V1_TINY).eval()
    mel = torch.randn(1, 80, 12, generator=torch.Generator().manual_seed(0))
    reference = copy.deepcopy(model).remove_weight_norm().infer(mel)
    quantized = quantize_int8(model)
    assert isinstance(quantized, PreparedGenerator) and quantized.fast is None
    first = quantized.infer(mel)  # the calibration run: float32 arithmetic
    assert torch.equal(first, reference) and quantized.fast is not None
    later = quantized.infer(mel)
    assert not torch.equal(later, reference)
    assert _snr_db(reference, later) > 20  # 31.8 dB here (7-bit inputs without VNNI)
    assert model.has_weight_norm()  # the original is left as it is


def test_torchscript_generator_is_one_frozen_graph_with_the_same_output_at_other_lengths():
    model = tiny_model('HiFiGAN').remove_weight_norm().eval()
    traced, done = traced_generator(model)
    assert 'frozen graph' in done
    short, long = torch.randn(2, 80, 6), torch.randn(1, 80, 15)
    assert torch.equal(traced.infer(short), model.infer(short))
    assert isinstance(traced.fast, torch.jit.ScriptModule)
    torch.testing.assert_close(traced.infer(long), model.infer(long), rtol=1e-5, atol=1e-6)
    int8 = quantize_int8(model)
    assert traced_generator(int8) == (int8, 'stays int8 (tracing it gains nothing)')


def test_the_denoiser_of_a_prepared_generator_measures_with_its_float_original():
    model = tiny_model('HiFiGAN').remove_weight_norm().eval()
    args = argparse.Namespace(hop_length=256, hifigan='h.pt', hifigan_denoising_strength=0.01)
    prepared = quantize_int8(model)
    vocoder = HiFiGANVocoder(prepared, args)
    assert prepared.fast is None  # the bias measurement did not calibrate on silence
    torch.testing.assert_close(vocoder.denoiser.bias_spec, HiFiGANVocoder(model, args).denoiser.bias_spec)


def test_validation_images_are_mels_of_the_first_clip():
    generated, real = torch.rand(2, 1, 2048) - 0.5, torch.rand(2, 1, 2048) - 0.5
    images = validation_images(generated, (real, None))
    assert set(images) == {'mel_predicted', 'mel_target'}
    assert images['mel_predicted'].shape == images['mel_target'].shape == (80, 8)


# ---------------------------------------------------------------- benchmark floors

@pytest.mark.slow
def test_floors_count_the_weights_and_flops_of_the_models():
    spec = models.model_spec('HiFiGAN')
    config = spec.default_config()
    torch.manual_seed(0)
    generator = Generator(**config).remove_weight_norm().eval()
    n_frames = 3
    tally = generator_tally(config, 1, n_frames)
    assert tally.weights == _parameters(generator)
    counted = _counted_flops(lambda: generator(torch.randn(1, 80, n_frames)))
    assert infer_floor(config, 'fp32', 1, n_frames)[0].flops == pytest.approx(counted, rel=0.01)

    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    periods, n_samples = (2, 3, 5, 7, 11), 1024
    tally = discriminators_tally(periods, 1, n_samples)
    # weight-norm magnitudes aside, every parameter is a convolution's weight or bias
    assert tally.weights == _parameters(mpd, skip=('weight_g',)) + _parameters(msd, skip=('weight_g',))
    audio = torch.rand(1, 1, n_samples)
    counted = _counted_flops(lambda: (mpd(audio, audio), msd(audio, audio)))
    assert tally.flops == pytest.approx(counted / 2, rel=0.01)  # the models score real and fake: two signals


@pytest.mark.slow
def test_benchmark_workloads_run_at_their_quick_sizes():
    spec = models.model_spec('HiFiGAN')
    for case in spec.benchmark_cases:
        if hasattr(case, 'build'):
            workload = case.build(spec, torch.device('cpu'), Precision('cpu'), quick=True)
            workload.run()
            assert case.floor(workload.config, 'fp32', **workload.sizes)
