"""inference.py --backend onnxruntime: exported files (export.py) run by common/onnx_runtime.py behind the same
generator and vocoder interfaces as the PyTorch models (common/model_spec.py's MelGenerator and Vocoder), so that
batching, sentence joining, the denoiser, WAV writing and the latency figures are the ones of the PyTorch path.

A model's spec says which of its inference.py flags the runtime takes (ModelSpec.onnx_runtime_options): FastPitch's
pace, pitch controls, speaker and text front end, WaveGlow's sigma; a vocoder's denoising strength is used here,
by a denoiser (common/denoiser.py) whose bias the exported vocoder itself measures. --stream works as with PyTorch:
an exported vocoder's metadata keeps its receptive field.
"""
import numpy as np
import torch

from common import onnx_runtime
from common.denoiser import Denoiser
from common.model_spec import GENERATOR
from common.streaming import context_frames

DENOISING_STRENGTH = 'denoising_strength'  # the option used here, not passed on to the runtime


class OnnxBackendError(ValueError):
    """An exported file that does not fit the flag it was given with; the message names both."""


def load_onnx_synthesizer(spec, path, args):
    """The spec's model as exported at `path`, behind the MelGenerator or Vocoder interface."""
    options = spec.onnx_runtime_options(args)
    strength = options.pop(DENOISING_STRENGTH, 0.0)
    try:
        export = onnx_runtime.open_export(path)
        exported = export.metadata['model']
        if exported != spec.name:
            raise OnnxBackendError(f'{spec.inference_flag} {path}: the file holds a {exported} export')
        runtime = onnx_runtime.runtime_of(export, **options)
    except onnx_runtime.OnnxModelError as error:
        raise OnnxBackendError(f'{spec.inference_flag}: {error}') from None
    if spec.role == GENERATOR:
        return OnnxGenerator(runtime)
    return OnnxVocoder(runtime, strength)


class OnnxGenerator:
    def __init__(self, runtime):
        self.runtime = runtime
        self.n_mel_channels = runtime.n_mel_channels
        self.text_processing = runtime.text_processing
        self.autoregressive = isinstance(runtime, onnx_runtime.AutoregressiveTextToMel)
        if self.autoregressive:
            steps = runtime.max_decoder_steps
            self.overrun_message = (f'the decoder reached max_decoder_steps ({steps}) before its stop gate fired; the '
                                    'audio of this line may be cut short (raise --max-decoder-steps)')
            self.overrun_event = {'event': 'max_decoder_steps_reached', 'max_decoder_steps': steps}
        else:
            self.overrun_message = self.overrun_event = None
        self.description = f'{runtime.metadata["model"]} (ONNX Runtime, {runtime.path})'

    def __call__(self, text, lengths):
        outputs = self.runtime(text.cpu().numpy(), lengths.cpu().numpy())
        overrun = torch.from_numpy(outputs[2]) if self.autoregressive else None
        return torch.from_numpy(outputs[0]), torch.from_numpy(outputs[1].astype(np.int64)), overrun


class OnnxVocoder:
    def __init__(self, runtime, denoising_strength):
        self.runtime = runtime
        self.n_mel_channels = runtime.n_mel_channels
        self.hop_length = runtime.hop_length
        self.strength = denoising_strength
        self.denoiser = (Denoiser(lambda mel: torch.from_numpy(runtime(mel.numpy(), sigma=0.0)), self.n_mel_channels)
                         if denoising_strength > 0 else None)
        self.stream_context_frames = context_frames(runtime.metadata['receptive_field_samples'], self.hop_length,
                                                    self.denoiser)
        self.description = (f'{runtime.metadata["model"]} (ONNX Runtime, {runtime.path}, denoising strength '
                            f'{denoising_strength})')

    def __call__(self, mel, autocast):
        audio = torch.from_numpy(self.runtime(mel.float().cpu().numpy()))
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.strength)
        return audio
