"""WaveGlow's benchmark cases (common/benchmarking.py explains the kinds and how floors are counted)."""
import numpy as np
import torch

from common.benchmarking import (OnnxRun, QualityCase, SpeedCase, Tally, TrainingCase, Workload, default_model,
                                 inference_call, training_step)

from .loss_function import WaveGlowLoss
from .model import UPSAMPLE_KERNEL, UPSAMPLE_STRIDE, WaveGlow

HOP_LENGTH = UPSAMPLE_STRIDE  # audio samples per mel frame


# ---------------------------------------------------------------- floors

def flows_tally(c, batch, n_steps):
    """All flows' coupling networks and 1x1 convolutions over n_steps grouped time steps."""
    t, wn = Tally(), c['WN_config']
    n_channels, n_cond = wn['n_channels'], c['n_mel_channels'] * c['n_group']
    positions, remaining = batch * n_steps, c['n_group']
    for k in range(c['n_flows']):
        if k > 0 and k % c['n_early_every'] == 0:
            remaining -= c['n_early_size']
        t.conv(remaining, remaining, 1, positions, bias=False)              # invertible 1x1
        t.conv(remaining // 2, n_channels, 1, positions)                    # start
        for i in range(wn['n_layers']):
            t.conv(n_channels, 2 * n_channels, wn['kernel_size'], positions)
            t.conv(n_cond, 2 * n_channels, 1, positions)
            last = i == wn['n_layers'] - 1
            t.conv(n_channels, n_channels if last else 2 * n_channels, 1, positions)
        t.conv(n_channels, remaining, 1, positions)                         # end: shift and log-scale
    return t


def upsample_tally(c, batch, n_frames):
    t, m = Tally(), c['n_mel_channels']
    t.conv(m, m, UPSAMPLE_KERNEL, batch * n_frames)  # transposed: each frame scatters a 1024-sample kernel
    return t


def infer_floor(c, precision, batch, n_frames):
    n_samples = batch * n_frames * HOP_LENGTH
    mel = batch * n_frames * c['n_mel_channels']
    flows = flows_tally(c, batch, n_frames * HOP_LENGTH // c['n_group'])
    return [upsample_tally(c, batch, n_frames).inference('upsample', precision, mel),
            flows.inference('flows', precision, 2 * n_samples)]


def train_floor(c, precision, batch, n_samples):
    n_frames = -(-n_samples // HOP_LENGTH)
    mel = batch * n_frames * c['n_mel_channels']
    return [upsample_tally(c, batch, n_frames).training('upsample', precision, mel),
            flows_tally(c, batch, n_samples // c['n_group']).training('flows', precision, 2 * batch * n_samples)]


# ---------------------------------------------------------------- workloads

def _with_channels(spec, device, n_channels):
    """(config, model) at the default config but for the width of the coupling networks."""
    wn_config = {**spec.default_config()['WN_config'], 'n_channels': n_channels}
    return default_model(spec, device, WN_config=wn_config)


def infer_workload(n_channels):
    """The baseline's inference case at this width: 600 frames, warmed up on 60 (a full call takes minutes)."""
    def build(spec, device, precision, quick):
        n_frames, n_warmup = (16, 16) if quick else (600, 60)
        config, model = _with_channels(spec, device, n_channels)
        model = WaveGlow.remove_weightnorm(model)
        mel = torch.randn(1, config['n_mel_channels'], n_frames, device=device)
        run = inference_call(model, precision, lambda m: m.infer(mel, sigma=0.6))
        warm = inference_call(model, precision, lambda m: m.infer(mel[:, :, :n_warmup], sigma=0.6))
        # through ONNX Runtime, warmed up on the full mel: its graph was built for the export already
        onnx = OnnxRun(model, lambda runtime: runtime(mel.cpu().numpy(), rng=np.random.default_rng(0)),
                       {'sigma': 0.6})
        return Workload(warm, run, n_frames * HOP_LENGTH, config, {'batch': 1, 'n_frames': n_frames},
                        f'wn_channels {n_channels}, mel (1, 80, {n_frames}), sigma 0.6, weight norm folded; '
                        f'warm-up on {n_warmup} frames', onnx=onnx)
    return build


def train_workload(spec, device, precision, quick):
    batch, n_samples = 2, (1024 if quick else 8000)
    config, model = _with_channels(spec, device, 256)
    n_frames = -(-n_samples // HOP_LENGTH)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    audio = torch.rand(batch, n_samples, device=device) - 0.5
    # clip 3.4e38: the reference's training script's value, i.e. no clipping
    step = training_step(model, WaveGlowLoss(sigma=1.0), (mel, audio), audio, precision,
                         learning_rate=1e-4, weight_decay=0.0, grad_clip_thresh=3.4e38)
    return Workload(step, step, batch * n_samples, config, {'batch': batch, 'n_samples': n_samples},
                    f'wn_channels 256, batch {batch}, segment {n_samples} samples, fused Adam(1e-4), clip 3.4e38')


# ---------------------------------------------------------------- quality

def synthesis(model, mel):
    """At sigma 0: no noise, so the runs differ by their arithmetic alone."""
    return lambda m: m.infer(mel, sigma=0.0)


def onnx_synthesis(model, mel):
    """At sigma 0, the runtime's default."""
    return OnnxRun(model, lambda runtime: runtime(mel.cpu().numpy()))


def default_quality_model(spec):
    """A fresh WaveGlow's coupling layers are the identity (WN.end starts at zero), which would hide any error, so
    its WN.end weights are drawn from N(0, 0.01^2) here instead."""
    _, model = default_model(spec, 'cpu')
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(std=0.01)  # drawn on from default_model's seed
    return WaveGlow.remove_weightnorm(model)


CASES = (
    SpeedCase('wg256_infer', 'samples/s', 'samples_per_s', False, infer_workload(256), infer_floor),
    SpeedCase('wg512_infer', 'samples/s', 'samples_per_s', False, infer_workload(512), infer_floor),
    SpeedCase('wg256_train', 'samples/s', 'audio_samples_per_s', True, train_workload, train_floor),
    QualityCase('waveglow 512', default_quality_model, synthesis, synthesis, onnx_synthesis),
    # at the demo size: benchmarks/training.py adds configs/demo_waveglow.json
    TrainingCase('audio_text', ('-lr', '1e-4', '--weight-decay', '0')),
)
