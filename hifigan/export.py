"""HiFi-GAN as one exportable graph: mel in, audio out (weight norm folded, as for synthesis). The denoiser stays
outside: inference.py's ONNX Runtime backend runs it in PyTorch on the exported generator's output."""
import torch
from torch import nn

from common.export import ExportPlan, Graph
from common.export_format import MEL_TO_AUDIO

TOLERANCE = 1e-4  # audio samples in [-1, 1]


class ExportableHiFiGAN(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, mel):
        return self.model.infer(mel)


def export_plan(model, args):
    graph = Graph(name='', module=ExportableHiFiGAN(model).eval(), inputs=('mel',), outputs=('audio',),
                  dynamic_axes={'mel': {0: 'batch', 2: 'frames'}, 'audio': {0: 'batch', 1: 'samples'}},
                  example=lambda length: (torch.randn(2, model.n_mel_channels, length) - 5,))
    metadata = {'model': 'HiFiGAN', 'role': 'vocoder', 'n_mel_channels': model.n_mel_channels,
                'hop_length': model.hop_length, 'receptive_field_samples': model.receptive_field_samples()}
    return ExportPlan(runtime=MEL_TO_AUDIO, graphs=(graph,), metadata=metadata, tolerance=TOLERANCE)
