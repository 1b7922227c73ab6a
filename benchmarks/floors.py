"""Floors: the work each benchmark case cannot avoid, counted from the model config and the case's sizes.

How we count (the same rules for every case):
* FLOP: a multiply-add is 2 FLOP. Only matrix products and convolutions are counted; activations, norms, softmax
  and the optimizer's arithmetic are a few operations per element, under 1 % of the products here.
  A conv1d c_in -> c_out with kernel k over P positions (batch x time) is 2 c_in c_out k P; a linear layer is k = 1;
  an LSTM cell with input n and hidden h is two products into 4 h gates: 2 (4 h) (n + h) per position.
* Bytes ("must move" to or from memory): weights once per pass, plus the inputs and outputs of the whole model.
  Intermediate activations are not counted for inference: a tiled implementation keeps them in cache.
  One exception makes Tacotron 2 decoding memory-bound: the decoder's two LSTM cells hold ~70 MB of fp32 weights,
  twice this CPU's 36 MB L3, and every decoder step needs all of them, so each step streams them again.
* Training: backward costs twice the forward FLOP (one product for the input gradient, one for the weight
  gradient, each as large as the forward product), so a step is 3x the forward. Bytes add, per parameter, the
  backward's second read of the weight, the gradient written (4 B), read by the norm clip and scaled in place
  (12 B), and Adam's read of parameter, gradient and two moments and write of parameter and moments (28 B); and
  every counted activation is written once in the forward and read once in the backward (it must be kept).
* Precision changes the bytes of weights and activations and which GEMM ceiling applies (see PRECISION_BYTES).
Floor time = sum over phases of max(FLOP / GEMM ceiling, bytes / stream bandwidth): each phase waits at least
for its arithmetic or for its memory traffic. The distance from the floor is measured time / floor time.
"""
from dataclasses import dataclass

from waveglow.model import UPSAMPLE_KERNEL, UPSAMPLE_STRIDE

# bytes per weight and per activation element; bf16 autocast keeps fp32 master weights but reads bf16 copies
PRECISION_BYTES = {'fp32': (4, 4), 'bf16': (2, 2), 'int8': (1, 4)}
PEAK_KEY = {'fp32': 'fp32_gflops', 'bf16': 'bf16_gflops', 'int8': 'int8_gops'}
OPTIMIZER_BYTES_PER_PARAM = 4 + 12 + 28   # grad write, clip (read + scale), Adam (see module docstring)
HOP_LENGTH = UPSAMPLE_STRIDE              # WaveGlow: audio samples per mel frame


@dataclass
class Phase:
    name: str
    flops: float
    bytes: float

    def seconds(self, ceilings, precision):
        peak = ceilings.get(PEAK_KEY[precision]) or ceilings['fp32_gflops']
        bandwidth = max(ceilings['copy_gbps'], ceilings['read_gbps'])
        return max(self.flops / (peak * 1e9), self.bytes / (bandwidth * 1e9))


def floor_seconds(phases, ceilings, precision='fp32'):
    return sum(phase.seconds(ceilings, precision) for phase in phases)


class Tally:
    """Running FLOP, weight and activation counts of a group of layers (see the counting rules above)."""

    def __init__(self):
        self.flops = 0
        self.weights = 0
        self.activations = 0

    def conv(self, c_in, c_out, kernel, positions, bias=True):
        self.flops += 2 * c_in * c_out * kernel * positions
        self.weights += c_in * c_out * kernel + (c_out if bias else 0)
        self.activations += c_out * positions

    def linear(self, n_in, n_out, positions, bias=True):
        self.conv(n_in, n_out, 1, positions, bias)

    def lstm(self, n_in, hidden, positions):
        self.flops += 2 * 4 * hidden * (n_in + hidden) * positions
        self.weights += 4 * hidden * (n_in + hidden) + 2 * 4 * hidden
        self.activations += 4 * hidden * positions

    def repeated(self, n):
        """The same layers run n times (decoder steps): n x the FLOP and activations, the same weights."""
        t = Tally()
        t.flops, t.weights, t.activations = self.flops * n, self.weights, self.activations * n
        return t

    def product(self, flops, outputs):
        """A product between activations (attention scores, context): no weights."""
        self.flops += flops
        self.activations += outputs

    def inference(self, name, precision, io_elements=0, weight_reads=1):
        w, a = PRECISION_BYTES[precision]
        return Phase(name, self.flops, self.weights * w * weight_reads + io_elements * a)

    def training(self, name, precision, io_elements=0, weight_reads=1):
        """Forward + backward + clip + Adam; weight_reads > 1 where the weights are streamed per step."""
        w, a = PRECISION_BYTES[precision]
        weight_traffic = self.weights * w * 2 * weight_reads + self.weights * OPTIMIZER_BYTES_PER_PARAM
        return Phase(name, 3 * self.flops, weight_traffic + (2 * self.activations + io_elements) * a)


# Tacotron 2 ------------------------------------------------------------------------------------------------------

def _tacotron2_encoder(c, batch, n_symbols):
    t, e, positions = Tally(), c['encoder_embedding_dim'], batch * n_symbols
    for _ in range(c['encoder_n_convolutions']):
        t.conv(e, e, c['encoder_kernel_size'], positions)
    for _direction in range(2):
        t.lstm(e, e // 2, positions)
    t.linear(e, c['attention_dim'], positions, bias=False)  # attention memory, projected once
    return t


def _tacotron2_decoder_step(c, batch, n_symbols):
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


def _tacotron2_postnet(c, batch, n_frames):
    t, m, d = Tally(), c['n_mel_channels'], c['postnet_embedding_dim']
    channels = [m] + [d] * (c['postnet_n_convolutions'] - 1) + [m]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        t.conv(c_in, c_out, c['postnet_kernel_size'], batch * n_frames)
    return t


def tacotron2_infer(c, precision, batch, n_symbols, n_steps):
    decoder = _tacotron2_decoder_step(c, batch, n_symbols).repeated(n_steps)
    return [_tacotron2_encoder(c, batch, n_symbols).inference('encoder', precision, batch * n_symbols),
            decoder.inference('decoder', precision, batch * n_steps * c['n_mel_channels'], weight_reads=n_steps),
            _tacotron2_postnet(c, batch, n_steps).inference('postnet', precision,
                                                            2 * batch * n_steps * c['n_mel_channels'])]


def tacotron2_train(c, precision, batch, n_symbols, n_frames):
    decoder = _tacotron2_decoder_step(c, batch, n_symbols).repeated(n_frames)
    mel = batch * n_frames * c['n_mel_channels']
    return [_tacotron2_encoder(c, batch, n_symbols).training('encoder', precision, batch * n_symbols),
            decoder.training('decoder', precision, 2 * mel, weight_reads=n_frames),
            _tacotron2_postnet(c, batch, n_frames).training('postnet', precision, 2 * mel)]


# WaveGlow --------------------------------------------------------------------------------------------------------

def _waveglow_flows(c, batch, n_steps):
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


def _waveglow_upsample(c, batch, n_frames):
    t, m = Tally(), c['n_mel_channels']
    t.conv(m, m, UPSAMPLE_KERNEL, batch * n_frames)  # transposed: each frame scatters a 1024-sample kernel
    return t


def waveglow_infer(c, precision, batch, n_frames):
    n_samples = batch * n_frames * HOP_LENGTH
    mel = batch * n_frames * c['n_mel_channels']
    flows = _waveglow_flows(c, batch, n_frames * HOP_LENGTH // c['n_group'])
    return [_waveglow_upsample(c, batch, n_frames).inference('upsample', precision, mel),
            flows.inference('flows', precision, 2 * n_samples)]


def waveglow_train(c, precision, batch, n_samples):
    n_frames = -(-n_samples // HOP_LENGTH)
    mel = batch * n_frames * c['n_mel_channels']
    return [_waveglow_upsample(c, batch, n_frames).training('upsample', precision, mel),
            _waveglow_flows(c, batch, n_samples // c['n_group']).training('flows', precision, 2 * batch * n_samples)]


# FastPitch 1.0 ---------------------------------------------------------------------------------------------------

def _fft_stack(c, prefix, batch, length):
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


def _fastpitch_symbols(c, batch, n_symbols):
    """Encoder, both predictors and the pitch embedding: everything that runs per symbol."""
    t, positions = _fft_stack(c, 'in', batch, n_symbols), batch * n_symbols
    for name in ('dur', 'pitch'):
        width, kernel = c[f'{name}_predictor_filter_size'], c[f'{name}_predictor_kernel_size']
        for i in range(c[f'{name}_predictor_n_layers']):
            t.conv(c['in_fft_output_size'] if i == 0 else width, width, kernel, positions)
        t.linear(width, 1, positions)
    t.conv(1, c['symbols_embedding_dim'], 3, positions)
    return t


def _fastpitch_frames(c, batch, n_frames):
    t = _fft_stack(c, 'out', batch, n_frames)
    t.linear(c['out_fft_output_size'], c['n_mel_channels'], batch * n_frames)
    return t


def fastpitch_infer(c, precision, batch, n_symbols, n_frames):
    mel = batch * n_frames * c['n_mel_channels']
    return [_fastpitch_symbols(c, batch, n_symbols).inference('encoder+predictors', precision, batch * n_symbols),
            _fastpitch_frames(c, batch, n_frames).inference('decoder', precision, mel)]


def fastpitch_train(c, precision, batch, n_symbols, n_frames):
    mel = batch * n_frames * c['n_mel_channels']
    return [_fastpitch_symbols(c, batch, n_symbols).training('encoder+predictors', precision, 3 * batch * n_symbols),
            _fastpitch_frames(c, batch, n_frames).training('decoder', precision, 2 * mel)]

