"""Tacotron 2's benchmark cases (common/benchmarking.py explains the kinds and how floors are counted).

Decoding is memory-bound: the decoder's two LSTM cells hold ~70 MB of fp32 weights, twice the 36 MB L3 of the
baseline's CPU, and every decoder step needs all of them, so each step streams them again.
"""
import torch

from common.benchmarking import (N_SYMBOLS, AlignmentCase, OnnxRun, QualityCase, SpeedCase, Tally, TrainingCase,
                                 Workload, default_model, inference_call, sentence_ids, training_step)

from .loss_function import Tacotron2Loss

QUALITY_DECODER_STEPS = 200
# the training-throughput run's size (small, not tiny): encoder 256, attention and decoder LSTMs 512, a quarter of
# the reference's parameters
SMALL_SIZE_FLAGS = ('--symbols-embedding-dim', '256', '--encoder-embedding-dim', '256', '--attention-rnn-dim', '512',
                    '--decoder-rnn-dim', '512', '--prenet-dim', '128', '--postnet-embedding-dim', '256')
# the alignment benchmark's size: about the demo FastPitch's (configs/demo_fastpitch.json), so that minutes of CPU
# take hundreds of steps; its attention gives FastPitch 1.0 its durations
ALIGNMENT_FLAGS = ('--load-mel-from-disk', '-bs', '16', '-lr', '1e-3', '--symbols-embedding-dim', '128',
                   '--encoder-embedding-dim', '128', '--attention-rnn-dim', '256', '--decoder-rnn-dim', '256',
                   '--prenet-dim', '128', '--postnet-embedding-dim', '128')


# ---------------------------------------------------------------- floors

def encoder_tally(c, batch, n_symbols):
    t, e, positions = Tally(), c['encoder_embedding_dim'], batch * n_symbols
    for _ in range(c['encoder_n_convolutions']):
        t.conv(e, e, c['encoder_kernel_size'], positions)
    for _direction in range(2):
        t.lstm(e, e // 2, positions)
    t.linear(e, c['attention_dim'], positions, bias=False)  # attention memory, projected once
    return t


def decoder_step_tally(c, batch, n_symbols):
    """One decoder step for `batch` items attending over n_symbols encoder outputs."""
    t, e, m = Tally(), c['encoder_embedding_dim'], c['n_mel_channels']
    p, r_att, r_dec, a = c['prenet_dim'], c['attention_rnn_dim'], c['decoder_rnn_dim'], c['attention_dim']
    t.linear(m, p, batch, bias=False)
    t.linear(p, p, batch, bias=False)
    t.lstm(p + e, r_att, batch)
    t.linear(r_att, a, batch, bias=False)                                   # query
    n_filters = c['attention_location_n_filters']
    t.conv(2, n_filters, c['attention_location_kernel_size'], batch * n_symbols, bias=False)
    t.linear(n_filters, a, batch * n_symbols, bias=False)                   # location dense
    t.linear(a, 1, batch * n_symbols, bias=False)                           # energies (v)
    t.product(2 * batch * n_symbols * e, batch * e)                         # context = weights @ memory
    t.lstm(r_att + e, r_dec, batch)
    t.linear(r_dec + e, m + 1, batch)                                       # mel projection and gate
    return t


def postnet_tally(c, batch, n_frames):
    t, m, d = Tally(), c['n_mel_channels'], c['postnet_embedding_dim']
    channels = [m] + [d] * (c['postnet_n_convolutions'] - 1) + [m]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        t.conv(c_in, c_out, c['postnet_kernel_size'], batch * n_frames)
    return t


def infer_floor(c, precision, batch, n_symbols, n_steps):
    decoder = decoder_step_tally(c, batch, n_symbols).repeated(n_steps)
    return [encoder_tally(c, batch, n_symbols).inference('encoder', precision, batch * n_symbols),
            decoder.inference('decoder', precision, batch * n_steps * c['n_mel_channels'], weight_reads=n_steps),
            postnet_tally(c, batch, n_steps).inference('postnet', precision, 2 * batch * n_steps * c['n_mel_channels'])]


def train_floor(c, precision, batch, n_symbols, n_frames):
    decoder = decoder_step_tally(c, batch, n_symbols).repeated(n_frames)
    mel = batch * n_frames * c['n_mel_channels']
    return [encoder_tally(c, batch, n_symbols).training('encoder', precision, batch * n_symbols),
            decoder.training('decoder', precision, 2 * mel, weight_reads=n_frames),
            postnet_tally(c, batch, n_frames).training('postnet', precision, 2 * mel)]


# ---------------------------------------------------------------- workloads

def infer_workload(spec, device, precision, quick):
    """The baseline's sentence decoded for exactly n_steps steps (the stop gate of random weights fires at random)."""
    n_steps = 30 if quick else 600
    config, model = default_model(spec, device, max_decoder_steps=n_steps, decoder_no_early_stopping=True)
    text, lengths = sentence_ids(device)
    run = inference_call(model, precision, lambda m: m.infer(text, lengths))
    onnx = OnnxRun(model, lambda runtime: runtime(text.cpu().numpy(), lengths.cpu().numpy()))
    return Workload(run, run, n_steps, config, {'batch': 1, 'n_symbols': N_SYMBOLS, 'n_steps': n_steps},
                    f'batch 1, {N_SYMBOLS} symbols, {n_steps} decoder steps (no early stopping)', onnx=onnx)


def train_workload(spec, device, precision, quick):
    batch, n_text, n_frames = 4, 100, (20 if quick else 400)
    config, model = default_model(spec, device)
    text = torch.randint(1, config['n_symbols'], (batch, n_text), device=device)
    text_lengths = torch.full((batch,), n_text, device=device)
    mel = torch.randn(batch, config['n_mel_channels'], n_frames, device=device)
    gate = torch.zeros(batch, n_frames, device=device)
    gate[:, -1] = 1.0
    inputs = (text, text_lengths, mel, n_text, torch.full((batch,), n_frames, device=device))
    step = training_step(model, Tacotron2Loss(), inputs, (mel, gate), precision,
                         learning_rate=1e-3, weight_decay=1e-6, grad_clip_thresh=1.0)
    return Workload(step, step, batch * n_frames, config, {'batch': batch, 'n_symbols': n_text, 'n_frames': n_frames},
                    f'batch {batch}, text {n_text}, mel {n_frames} frames, fused Adam(1e-3, wd 1e-6), clip 1.0')


# ---------------------------------------------------------------- quality

def synthesis(model, text, lengths):
    """The prenet's dropout stays on at inference: the quality runner seeds every run, so all draw the same masks."""
    return lambda m: m.infer(text, lengths)[0]


def default_quality_model(spec):
    """Held to a fixed number of steps, so that every precision decodes as many frames."""
    return default_model(spec, 'cpu', max_decoder_steps=QUALITY_DECODER_STEPS, decoder_no_early_stopping=True)[1]


CASES = (
    SpeedCase('t2_infer', 'mel frames/s', 'frames_per_s', False, infer_workload, infer_floor),
    SpeedCase('t2_train', 'mel frames/s', 'mel_frames_per_s', True, train_workload, train_floor),
    # no ONNX run: there the prenet's dropout masks are numpy's draws, so no output would match PyTorch's (export.py
    # checks each graph with the same masks)
    QualityCase('tacotron2', default_quality_model, synthesis, synthesis),
    TrainingCase('mel_text', ('--load-mel-from-disk', '-lr', '1e-3', *SMALL_SIZE_FLAGS)),
    AlignmentCase('Tacotron 2 attention (FastPitch 1.0 durations)', 'mel_text', ALIGNMENT_FLAGS),
)
