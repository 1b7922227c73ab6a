"""WaveGlow as one exportable graph: mel and the noise z in, audio out (weight norm folded, as for synthesis).

The noise is an input, so that a runtime draws it (sigma * N(0, 1), or zeros for sigma 0) and the graph itself is
deterministic. The inverses of the 1x1 convolutions are computed once here: ONNX has no matrix inverse.
"""
import copy

import torch
from torch import nn
from torch.nn import functional as F

from common.export import ExportPlan, Graph
from common.export_format import MEL_TO_AUDIO

from .model import UPSAMPLE_STRIDE

TOLERANCE = 1e-3  # audio samples; the flows amplify float rounding more than a feed-forward vocoder


class FixedInverse1x1(nn.Module):
    """An invertible 1x1 convolution whose inverse was computed at export."""

    def __init__(self, invertible):
        super().__init__()
        self.register_buffer('inverse_weight', invertible.inverse_weight().detach().clone())

    def inverse(self, z):
        return F.conv1d(z, self.inverse_weight)


class ExportableWaveGlow(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = copy.deepcopy(model)
        self.model.convinv = nn.ModuleList(FixedInverse1x1(invertible) for invertible in model.convinv)

    def forward(self, mel, z):
        """mel (B, n_mel, F), z (B, n_group, F * 256 / n_group) -> audio (B, F * 256)."""
        return self.model.inverse(mel, z)


def example_inputs(model, length):
    mel = torch.randn(2, model.n_mel_channels, length) - 5
    return mel, 0.6 * torch.randn(2, model.n_group, length * UPSAMPLE_STRIDE // model.n_group)


def export_plan(model, args):
    graph = Graph(name='', module=ExportableWaveGlow(model).eval(), inputs=('mel', 'z'), outputs=('audio',),
                  dynamic_axes={'mel': {0: 'batch', 2: 'frames'}, 'z': {0: 'batch', 2: 'steps'},
                                'audio': {0: 'batch', 1: 'samples'}},
                  example=lambda length: example_inputs(model, length))
    metadata = {'model': 'WaveGlow', 'role': 'vocoder', 'n_mel_channels': model.n_mel_channels,
                'hop_length': UPSAMPLE_STRIDE, 'n_group': model.n_group,
                'receptive_field_samples': model.receptive_field_samples()}
    return ExportPlan(runtime=MEL_TO_AUDIO, graphs=(graph,), metadata=metadata, tolerance=TOLERANCE)
