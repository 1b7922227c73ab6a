"""HiFi-GAN's fast inference forms, both built from the first mel the generator vocodes:

* int8 (`--int8 hifigan`, CPU): static quantization of the generator's convolutions (fbgemm). The generic int8
  path (common/precision.py) quantizes activations per call and runs a convolution as one matrix product over an
  im2col copy: right for the few wide layers of the mel generators, far too slow for a vocoder whose every layer
  runs at audio rate. Here every convolution and transposed convolution runs fbgemm's int8 kernel on its input
  quantized with one fixed scale (sums and activations stay float32). Those scales are the min/max observed while
  the first mel is vocoded in float32 (inference.py's warm-up pass), so calibrate on speech like what follows: a
  much quieter first input would make later ones clip. Without VNNI (AVX2 CPUs) the inputs get 7 bits
  (common/int8.py says why).
* TorchScript (`--torchscript`): the generator traced as one graph, frozen (weights become constants) and, on
  the CPU, optimized for inference (oneDNN layouts kept between convolutions): the same arithmetic, one graph to
  deploy. On a 2-core AVX2 CPU it ran no faster than eager (median 1.01x over paired runs): the convolutions
  already take nearly all the time.
"""
import copy
import warnings

import torch
from torch import nn

from common.int8 import REDUCE_RANGE, quiet_quantization


class PreparedGenerator(nn.Module):
    """A generator run through a fast form that `build(float generator, mel)` makes on the first call: forward(mel)
    -> audio (B, 1, samples) and infer(mel) as the generator. The first call returns what the build made of its mel
    (int8: the float32 calibration run's audio); `float_generator` stays as it is (the denoiser measures with it)."""

    def __init__(self, generator, build, name):
        super().__init__()
        self.float_generator = copy.deepcopy(generator).eval().remove_weight_norm()
        self.build = build
        self.name = name  # 'int8' or 'TorchScript'
        self.n_mel_channels = generator.n_mel_channels
        self.hop_length = generator.hop_length
        self.fast = None

    def forward(self, mel):
        if self.fast is None:
            self.fast, audio = self.build(self.float_generator, mel)
            return audio
        return self.fast(mel)

    @torch.no_grad()
    def infer(self, mel):
        return self.forward(mel).squeeze(1)


def _int8_qconfig_mapping():
    """The convolutions only: fbgemm's int8 residual sums and activations cost more than they save (V1 ran at 1.8-2.1x
    real time that way, 2.2-2.6x with them in float32, and 4 dB closer to float32). Min/max input ranges (the
    calibration input is all we know of the data); symmetric int8 weights, per output channel, per tensor where
    fbgemm has no per-channel kernel (transposed convolutions)."""
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver, QConfig, QConfigMapping
    activation = MinMaxObserver.with_args(dtype=torch.quint8, reduce_range=REDUCE_RANGE)
    per_channel = PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    per_tensor = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    return (QConfigMapping()
            .set_object_type(nn.Conv1d, QConfig(activation=activation, weight=per_channel))
            .set_object_type(nn.ConvTranspose1d, QConfig(activation=activation, weight=per_tensor)))


@torch.no_grad()
def _calibrated_int8(generator, mel):
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    mel = mel.float()
    with quiet_quantization():
        observed = prepare_fx(copy.deepcopy(generator), _int8_qconfig_mapping(), example_inputs=(mel,))
        audio = observed(mel)
        quantized = convert_fx(observed)
    return (lambda later_mel: quantized(later_mel.float())), audio


@torch.no_grad()
def _frozen_trace(generator, mel):
    with warnings.catch_warnings():  # torch 2.x deprecates TorchScript (the reference recipes use it)
        warnings.simplefilter('ignore', DeprecationWarning)
        graph = torch.jit.freeze(torch.jit.trace(generator, mel, check_trace=False))
        if mel.device.type == 'cpu':
            graph = torch.jit.optimize_for_inference(graph)
        graph(mel)  # TorchScript's profiling executor optimizes the graph on its second call
        return graph, graph(mel)


def int8_generator(generator):
    return PreparedGenerator(generator, _calibrated_int8, 'int8')


def traced_generator(generator):
    """--torchscript: the generator as one frozen graph; an int8 one stays as it is (tracing it gains nothing)."""
    if isinstance(generator, PreparedGenerator):
        return generator, f'stays {generator.name} (tracing it gains nothing)'
    return PreparedGenerator(generator, _frozen_trace, 'TorchScript'), \
        'traced as one frozen graph on its first input (optimized for inference on the CPU)'
