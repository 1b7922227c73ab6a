"""HiFi-GAN's benchmark cases (common/benchmarking.py explains the kinds and how floors are counted).

The reference's CPU baseline has no HiFi-GAN figures, so these cases report throughput and floor distance only.
"""
import argparse
import math

import torch

from common.benchmarking import (OnnxRun, QualityCase, SpeedCase, Tally, TrainingCase, Workload, default_model,
                                 inference_call)
from common.data_args import add_audio_args

from .arg_parser import V3_CONFIG, add_model_args
from .data_function import batch_to_device
from .discriminators import MPD_KERNEL, MPD_POST_KERNEL, MPD_STRIDE, MPD_WIDTHS, MSD_LAYERS, MSD_POST_KERNEL, N_SCALES
from .fast_inference import traced_generator
from .loss_function import MelLoss
from .mel import mel_transforms
from .model import PRE_POST_KERNEL
from .training_step import GANStep

TRAIN_FLAGS = ('-lr', '3e-4')  # train.py's required learning rate, at the reference recipe's value


# ---------------------------------------------------------------- floors

def generator_tally(c, batch, n_frames):
    """conv_pre, each stage's transposed convolution (every input position scatters a kernel of taps) and residual
    blocks at the stage's rate, conv_post."""
    t, channels, positions = Tally(), c['upsample_initial_channel'], batch * n_frames
    t.conv(c['n_mel_channels'], channels, PRE_POST_KERNEL, positions)
    for rate, kernel in zip(c['upsample_rates'], c['upsample_kernel_sizes']):
        t.conv(channels, channels // 2, kernel, positions)
        channels, positions = channels // 2, positions * rate
        for block_kernel, dilations in zip(c['resblock_kernel_sizes'], c['resblock_dilation_sizes']):
            for _ in range(2 * len(dilations) if c['resblock'] == '1' else len(dilations)):
                t.conv(channels, channels, block_kernel, positions)
    t.conv(channels, 1, PRE_POST_KERNEL, positions)
    return t


def discriminators_tally(periods, batch, n_samples):
    """MPD and MSD at the reference widths on `batch` signals of n_samples (same-padded convolutions: a stride s
    takes a length L to ceil(L / s))."""
    t = Tally()
    for period in periods:
        rows, widths = math.ceil(n_samples / period), (1, *MPD_WIDTHS)
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
            rows = math.ceil(rows / (MPD_STRIDE if i < len(MPD_WIDTHS) - 1 else 1))
            t.conv(c_in, c_out, MPD_KERNEL, batch * rows * period)
        t.conv(widths[-1], 1, MPD_POST_KERNEL, batch * rows * period)
    for scale in range(N_SCALES):
        length, c_in = n_samples // 2 ** scale, 1
        for c_out, kernel, stride, groups in MSD_LAYERS:
            length = math.ceil(length / stride)
            t.conv(c_in // groups, c_out, kernel, batch * length)
            c_in = c_out
        t.conv(c_in, 1, MSD_POST_KERNEL, batch * length)
    return t


def infer_floor(c, precision, batch, n_frames):
    io = batch * n_frames * (c['n_mel_channels'] + math.prod(c['upsample_rates']))
    return [generator_tally(c, batch, n_frames).inference('generator', precision, io)]


def train_floor(c, precision, batch, n_samples, periods):
    """The generator forward and backward once; the discriminators in the discriminator pass (real and generated:
    forward and backward) and the generator pass (real forward; generated forward and backward to the audio):
    nine forwards' worth, counted as three signals trained."""
    hop = math.prod(c['upsample_rates'])
    generator = generator_tally(c, batch, n_samples // hop).training('generator', precision,
                                                                     batch * n_samples * 2)
    return [generator, discriminators_tally(periods, 3 * batch, n_samples).training('discriminators', precision)]


# ---------------------------------------------------------------- workloads

def infer_workload(overrides, label, traced=False):
    """Inference at the config with `overrides`: 600 frames of batch 1 (16 quick), weight norm folded; `traced`:
    as inference.py --torchscript runs it (one frozen graph, built by the warm-up call)."""
    def build(spec, device, precision, quick):
        n_frames = 16 if quick else 600
        config, model = default_model(spec, device, **overrides)
        model = model.remove_weight_norm()
        trace = traced and precision.name != 'int8'  # an int8 model is not traced (hifigan/fast_inference.py)
        if trace:
            model, _ = traced_generator(model)
        mel = torch.randn(1, config['n_mel_channels'], n_frames, device=device)
        run = inference_call(model, precision, lambda m: m.infer(mel))
        return Workload(run, run, n_frames * model.hop_length, config, {'batch': 1, 'n_frames': n_frames},
                        f'{label}{", TorchScript" if trace else ""}, mel (1, {config["n_mel_channels"]}, '
                        f'{n_frames}), weight norm folded', onnx=None if traced else onnx_synthesis(model, mel))
    return build


def training_args():
    """The flags of a train.py run at the defaults (the reference recipe), as a namespace for GANStep."""
    parser = add_model_args(add_audio_args(argparse.ArgumentParser()))
    args = parser.parse_args([])
    args.learning_rate, args.optimizer_eps = float(TRAIN_FLAGS[1]), 1e-8
    args.gradient_accumulation_steps, args.max_nonfinite_steps, args.seed = 1, 1, 0
    return args


def train_workload(spec, device, precision, quick):
    """One GAN step (discriminators, then generator) of the V1 generator and the reference discriminators."""
    batch, n_samples = 1, (2048 if quick else 8192)
    args = training_args()
    config, model = default_model(spec, device)
    input_mel, loss_mel = (mel.to(device) for mel in mel_transforms(args))
    step = GANStep.from_args(model.train(), MelLoss(loss_mel), args, precision)
    audio = torch.rand(batch, n_samples, device=device) * 1.6 - 0.8
    x, y, _ = batch_to_device((input_mel(audio), audio[:, None], loss_mel(audio)), device)

    def run():
        loss, _ = step.accumulate(x, y, last_micro_batch=True)
        step.step(loss.item())
    return Workload(run, run, batch * n_samples, config,
                    {'batch': batch, 'n_samples': n_samples, 'periods': tuple(args.mpd_periods)},
                    f'V1 generator, reference discriminators, batch {batch}, segment {n_samples} samples, AdamW')


# ---------------------------------------------------------------- quality

def synthesis(model, mel):
    return lambda m: m.infer(mel)


def default_quality_model(spec):
    _, model = default_model(spec, 'cpu')
    return model.remove_weight_norm()


def onnx_synthesis(model, mel):
    return OnnxRun(model, lambda runtime: runtime(mel.cpu().numpy()))


V3_FLAGS = ('--resblock', '2', '--upsample-rates', '8', '8', '4', '--upsample-kernel-sizes', '16', '16', '8',
            '--upsample-initial-channel', '256', '--resblock-kernel-sizes', '3', '5', '7',
            '--resblock-dilation-sizes', '1,2', '2,6', '3,12')

CASES = (
    SpeedCase('hfg_v1_infer', 'samples/s', 'samples_per_s', False, infer_workload({}, 'V1'), infer_floor),
    SpeedCase('hfg_v1_infer_ts', 'samples/s', 'samples_per_s', False, infer_workload({}, 'V1', traced=True),
              infer_floor),
    SpeedCase('hfg_v3_infer', 'samples/s', 'samples_per_s', False, infer_workload(V3_CONFIG, 'V3'), infer_floor),
    SpeedCase('hfg_v1_train', 'samples/s', 'audio_samples_per_s', True, train_workload, train_floor),
    QualityCase('hifigan V1', default_quality_model, synthesis, synthesis, onnx_synthesis),
    # small: the V3 generator, discriminators a quarter as wide, the reference's segment
    TrainingCase('audio_text', (*TRAIN_FLAGS, *V3_FLAGS, '--discriminator-channel-divisor', '4')),
)
