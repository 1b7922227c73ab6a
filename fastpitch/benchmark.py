"""FastPitch's benchmark cases: 1.0's speed, quality and training, 1.1's speed and alignment (common/benchmarking.py
explains the kinds and how floors are counted).

1.1's speed cases have no reference CPU figure (the baseline measured 1.0 only); their floors are 1.0's network's,
a lower bound (1.1 adds the energy predictor and, in training, the aligner and the alignment search)."""
import copy
import math

import torch

from common.benchmarking import (N_SYMBOLS, AlignmentCase, OnnxRun, QualityCase, SpeedCase, Tally,
                                 TrainingCase, Workload, default_model, inference_call, sentence_ids, training_step)

from .attention_prior import interpolated_prior
from .loss_function import FastPitch11Loss, FastPitchLoss

FRAMES_PER_SYMBOL = 5  # the inference cases' durations: random weights predict arbitrary ones
# 1.1 learns its alignment: benchmarks/alignment.py adds the demo size (configs/demo_fastpitch.json); the rest is the
# 1.1 recipe (scripts/train_fastpitch11.sh) with a batch and a warm-up for minutes of training instead of days, and
# the binarization loss ramped in over 5 epochs (the recipe: 100 of its 1000), of the ~13 that 600 CPU s train
ALIGNMENT_FLAGS = ('--fastpitch-version', '1.1', '-bs', '16', '-lr', '0.1', '--warmup-steps', '100',
                   '--dur-predictor-loss-scale', '0.1', '--pitch-predictor-loss-scale', '0.1', '--energy-conditioning',
                   '--kl-loss-start-epoch', '0', '--kl-loss-warmup-epochs', '5',
                   '--pitch-mean-std-file', '{dataset}/pitch_stats__espeak_audio_text_train_filelist.json')


# ---------------------------------------------------------------- floors

def fft_stack_tally(c, prefix, batch, length):
    """An FFTransformer (encoder: prefix 'in', decoder: 'out') over `length` positions per item."""
    t, d = Tally(), c['symbols_embedding_dim']
    heads, d_head = c[f'{prefix}_fft_n_heads'], c[f'{prefix}_fft_d_head']
    d_inner, kernel = c[f'{prefix}_fft_conv1d_filter_size'], c[f'{prefix}_fft_conv1d_kernel_size']
    positions = batch * length
    for _ in range(c[f'{prefix}_fft_n_layers']):
        t.linear(d, 3 * heads * d_head, positions)
        t.product(2 * 2 * batch * heads * length * length * d_head, batch * heads * length * length)  # QK^T, AV
        t.linear(heads * d_head, d, positions, bias=False)
        t.conv(d, d_inner, kernel, positions)
        t.conv(d_inner, d, kernel, positions)
    return t


def symbols_tally(c, batch, n_symbols):
    """Encoder, both predictors and the pitch embedding: everything that runs per symbol."""
    t, positions = fft_stack_tally(c, 'in', batch, n_symbols), batch * n_symbols
    for name in ('dur', 'pitch'):
        width, kernel = c[f'{name}_predictor_filter_size'], c[f'{name}_predictor_kernel_size']
        for i in range(c[f'{name}_predictor_n_layers']):
            t.conv(c['in_fft_output_size'] if i == 0 else width, width, kernel, positions)
        t.linear(width, 1, positions)
    t.conv(1, c['symbols_embedding_dim'], 3, positions)
    return t


def frames_tally(c, batch, n_frames):
    t = fft_stack_tally(c, 'out', batch, n_frames)
    t.linear(c['out_fft_output_size'], c['n_mel_channels'], batch * n_frames)
    return t


def infer_floor(c, precision, batch, n_symbols, n_frames):
    mel = batch * n_frames * c['n_mel_channels']
    return [symbols_tally(c, batch, n_symbols).inference('encoder+predictors', precision, batch * n_symbols),
            frames_tally(c, batch, n_frames).inference('decoder', precision, mel)]


def train_floor(c, precision, batch, n_symbols, n_frames):
    mel = batch * n_frames * c['n_mel_channels']
    return [symbols_tally(c, batch, n_symbols).training('encoder+predictors', precision, 3 * batch * n_symbols),
            frames_tally(c, batch, n_frames).training('decoder', precision, 2 * mel)]


# ---------------------------------------------------------------- workloads

def pin_durations(model, frames):
    """The model (1.0 or 1.1, changed in place) with a duration predictor that says `frames` for every symbol:
    durations are exp(log_dur) - 1, so its last layer gets zero weights and the bias log(1 + frames). Random
    weights would predict arbitrary lengths; benchmarks and tests need known ones."""
    with torch.no_grad():
        model.duration_predictor.fc.weight.zero_()
        model.duration_predictor.fc.bias.fill_(math.log1p(frames))
    return model


def with_durations_pinned(model):
    """A copy that predicts FRAMES_PER_SYMBOL for every symbol: an exported graph predicts its durations, and these
    are the ones the cases give."""
    return pin_durations(copy.deepcopy(model), FRAMES_PER_SYMBOL)


def predicted_synthesis(text, lengths):
    """The mel of an exported FastPitch, through common/onnx_runtime.py."""
    return lambda runtime: runtime(text.cpu().numpy(), lengths.cpu().numpy())[0]


def given_durations_workload(config, model, device, precision, infer):
    """The baseline's sentence with given durations (the predictors still run): infer(model, text, lengths,
    durations) is the version's call; through ONNX Runtime, durations pinned to the same."""
    text, lengths = sentence_ids(device)
    durations = torch.full_like(text, FRAMES_PER_SYMBOL)
    n_frames = FRAMES_PER_SYMBOL * N_SYMBOLS
    run = inference_call(model, precision, lambda m: infer(m, text, lengths, durations))
    return Workload(run, run, n_frames, config, {'batch': 1, 'n_symbols': N_SYMBOLS, 'n_frames': n_frames},
                    f'batch 1, {N_SYMBOLS} symbols, dur_tgt {FRAMES_PER_SYMBOL} per symbol -> {n_frames} frames',
                    onnx=OnnxRun(with_durations_pinned(model), predicted_synthesis(text, lengths)))


def infer_workload(spec, device, precision, quick):
    config, model = default_model(spec, device)
    return given_durations_workload(config, model, device, precision,
                                    lambda m, text, lengths, durations: m.infer(text, lengths, dur_tgt=durations))


# the 1.1 recipe's model: the default config with energy conditioning (scripts/train_fastpitch11.sh)
V11_FLAGS = ('--fastpitch-version', '1.1', '--energy-conditioning')


def infer_workload_v11(spec, device, precision, quick):
    """As 1.0's (energy's predictor runs too); 1.1's infer reads the lengths off the padding."""
    config, model = default_model(spec, device, V11_FLAGS)
    return given_durations_workload(config, model, device, precision,
                                    lambda m, text, lengths, durations: m.infer(text, dur_tgt=durations))


def train_workload_v11(spec, device, precision, quick):
    """1.0's sizes, with what 1.1 adds: the aligner over the mel, the alignment search, per-frame pitch and energy,
    the prior; the recipe's loss scales."""
    batch, n_text, duration = 4, 100, (1 if quick else 4)
    config, model = default_model(spec, device, V11_FLAGS)
    n_frames = n_text * duration
    text = torch.randint(1, 148, (batch, n_text), device=device)
    lengths = torch.full((batch,), n_text, device=device)
    frame_lengths = torch.full((batch,), n_frames, device=device)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    pitch = torch.randn(batch, 1, n_frames, device=device)
    energy = mel.norm(dim=1)
    prior = interpolated_prior(n_frames, n_text).expand(batch, -1, -1).to(device)
    inputs = [text, lengths, mel, frame_lengths, pitch, energy, None, prior, None]
    loss = FastPitch11Loss(dur_predictor_loss_scale=0.1, pitch_predictor_loss_scale=0.1)
    step = training_step(model, loss, inputs, [mel, lengths, frame_lengths], precision,
                         learning_rate=0.1, weight_decay=1e-6, grad_clip_thresh=1000.0, betas=(0.9, 0.98), eps=1e-9)
    return Workload(step, step, batch * n_frames, config, {'batch': batch, 'n_symbols': n_text, 'n_frames': n_frames},
                    f'batch {batch}, text {n_text}, {n_frames} frames (durations learnt), '
                    'fused Adam(0.1, betas .9/.98, eps 1e-9, wd 1e-6), clip 1000')


def train_workload(spec, device, precision, quick):
    """The reference's optimizer is apex's FusedLAMB; its baseline stood in torch's Adam with these settings."""
    batch, n_text, duration = 4, 100, (1 if quick else 4)
    config, model = default_model(spec, device)
    n_frames = n_text * duration
    text = torch.randint(1, 148, (batch, n_text), device=device)
    lengths = torch.full((batch,), n_text, device=device)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    durations = torch.full((batch, n_text), duration, device=device)
    pitch = torch.randn(batch, n_text, device=device)
    inputs = [text, lengths, mel, torch.full((batch,), n_frames, device=device), durations, lengths, pitch]
    step = training_step(model, FastPitchLoss(), inputs, [mel, durations, lengths, pitch], precision,
                         learning_rate=0.1, weight_decay=1e-6, grad_clip_thresh=1000.0, betas=(0.9, 0.98), eps=1e-9)
    return Workload(step, step, batch * n_frames, config, {'batch': batch, 'n_symbols': n_text, 'n_frames': n_frames},
                    f'batch {batch}, text {n_text}, durations {duration} -> {n_frames} frames, '
                    'fused Adam(0.1, betas .9/.98, eps 1e-9, wd 1e-6), clip 1000')


# ---------------------------------------------------------------- quality

def synthesis_with(text, lengths, durations):
    """The same durations at every precision, so that the frames line up: a duration rounded the other way would
    shift every later frame."""
    return lambda m: m.infer(text, lengths, dur_tgt=durations)[0]


def default_synthesis(model, text, lengths):
    return synthesis_with(text, lengths, torch.full_like(text, FRAMES_PER_SYMBOL))


def trained_synthesis(model, text, lengths):
    """With the durations that the fp32 model predicts."""
    with torch.no_grad():
        durations = model.eval().infer(text, lengths)[2]
    return synthesis_with(text, lengths, durations)


def default_quality_model(spec):
    """Durations pinned to the ones default_synthesis gives, so that an exported graph predicts the same."""
    return with_durations_pinned(default_model(spec, 'cpu')[1])


def onnx_synthesis(model, text, lengths):
    """Through ONNX Runtime the durations are predicted: pinned ones for the default model, the trained model's
    own for a trained one (trained_synthesis gives PyTorch those)."""
    return OnnxRun(model, predicted_synthesis(text, lengths))


CASES = (
    SpeedCase('fp10_infer', 'mel frames/s', 'frames_per_s', False, infer_workload, infer_floor),
    SpeedCase('fp10_train', 'mel frames/s', 'mel_frames_per_s', True, train_workload, train_floor),
    SpeedCase('fp11_infer', 'mel frames/s', 'frames_per_s', False, infer_workload_v11, infer_floor),
    SpeedCase('fp11_train', 'mel frames/s', 'mel_frames_per_s', True, train_workload_v11, train_floor),
    QualityCase('fastpitch', default_quality_model, default_synthesis, trained_synthesis, onnx_synthesis),
    # at the demo size: benchmarks/training.py adds configs/demo_fastpitch.json
    TrainingCase('mel_dur_pitch_text', ('-lr', '0.1', '--pitch-mean-std-file',
                                        '{dataset}/pitch_char_stats__espeak_audio_text_train_filelist.json')),
    AlignmentCase('FastPitch 1.1 (learned alignment)', 'mel_pitch_text', ALIGNMENT_FLAGS, V11_FLAGS),
)
