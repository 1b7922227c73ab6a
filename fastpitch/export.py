"""FastPitch (1.0 or 1.1) as one exportable graph: symbol ids and the synthesis controls in, mel and mel lengths out.

The controls that inference.py takes as flags are per-item inputs here: pace, and the pitch controls of
fastpitch/synthesis.py's controlled_pitch (shift in Hz, amplify, flatten and invert as 0 or 1), plus the speaker
ids of a 1.1 model with several speakers. A graph without a use for an input (a one-speaker model's speaker) does
not keep it.
"""
import torch
from torch import nn

from common.export import ExportPlan, Graph
from common.export_format import TEXT_TO_MEL

from .synthesis import DEFAULT_CLEANERS, NEUTRAL_PITCH_CONTROLS, controlled_pitch, infer, model_version

# the control inputs at their neutral values (pace 1: as trained), in forward's order after the text
NEUTRAL_CONTROLS = {'pace': 1.0, **{f'pitch_{name}': value for name, value in NEUTRAL_PITCH_CONTROLS.items()},
                    'speaker': 0}
TOLERANCE = 1e-3  # mel values (log magnitudes); the frame counts must match exactly


class ExportableFastPitch(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.version = model_version(model)

    def forward(self, text, pace, pitch_flatten, pitch_invert, pitch_amplify, pitch_shift_hz, speaker):
        """text (B, T) int64 padded; controls (B,) float32, speaker (B,) int64 -> (mel (B, n_mel, F), lengths (B,))."""
        controls = {'flatten': pitch_flatten[:, None], 'invert': pitch_invert[:, None],
                    'amplify': pitch_amplify[:, None], 'shift_hz': pitch_shift_hz[:, None]}
        keywords = {'pace': pace[:, None],
                    'pitch_transform': lambda pitch, lengths, mean, std: controlled_pitch(pitch, std, **controls)}
        if self.version == '1.1':
            keywords['speaker'] = speaker
        mel, mel_lengths, _ = infer(self.model, text, None, **keywords)
        return mel, mel_lengths


def n_speakers(model):
    return getattr(model, 'n_speakers', 1)


def example_inputs(model, length):
    """Two items of random symbols (the second shorter, padded) with mild controls: pace 1 and 1.25, no flattening,
    the second inverted, amplify 1 and 1.5, a pitch shift of 0 and 20 Hz."""
    n_symbols = model.encoder.word_emb.num_embeddings
    padding = model.encoder.padding_idx
    text = torch.randint(1, n_symbols, (2, length))
    text = text.masked_fill(text == padding, 1 if padding != 1 else 2)
    text[1, length - length // 3:] = padding
    return (text, torch.tensor([1.0, 1.25]), torch.tensor([0.0, 0.0]), torch.tensor([0.0, 1.0]),
            torch.tensor([1.0, 1.5]), torch.tensor([0.0, 20.0]), torch.tensor([0, n_speakers(model) - 1]))


def export_plan(model, args):
    version = model_version(model)
    batch = {0: 'batch'}
    graph = Graph(name='', module=ExportableFastPitch(model).eval(), inputs=('text', *NEUTRAL_CONTROLS),
                  outputs=('mel', 'mel_lengths'),
                  dynamic_axes={'text': {0: 'batch', 1: 'symbols'}, **dict.fromkeys(NEUTRAL_CONTROLS, batch),
                                'mel': {0: 'batch', 2: 'frames'}, 'mel_lengths': batch},
                  example=lambda length: example_inputs(model, length))
    metadata = {'model': 'FastPitch', 'version': version, 'role': 'generator',
                'n_mel_channels': model.n_mel_channels, 'padding_id': model.encoder.padding_idx,
                'n_speakers': n_speakers(model), 'controls': NEUTRAL_CONTROLS,
                'text_cleaners': args.text_cleaners or DEFAULT_CLEANERS[version], 'text_front_end': version}
    return ExportPlan(runtime=TEXT_TO_MEL, graphs=(graph,), metadata=metadata, tolerance=TOLERANCE)
