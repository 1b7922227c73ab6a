"""The one interface every model package exports, as `SPEC = ModelSpec(...)` in its `__init__.py`.

train.py, inference.py, evaluate.py, prepare_dataset.py, hubconf.py and benchmarks/ ask a model's spec for
everything model-specific and name no model themselves; models.py holds the one table of specs. A model is one
package and one line in that table.

The required fields say what every model is: its name, class and flags, its training data and loss, and its role
(a GENERATOR makes mel spectrograms from text, a VOCODER makes audio from mel spectrograms). The optional hooks have
defaults that do nothing special, so a package sets only the ones where it differs:

  training     prepare_for_training, check_training_data (lines of the filelists the model cannot take),
               validation_images, build_training_step (a model with several optimizers, such as a GAN vocoder,
               brings its own step; the default is common.training.GradientStep), start_epoch (a loss whose terms
               are weighted by the epoch)
  checkpoints  config_from_state_dict (sizes read off the tensors when a file stores no config), load_weights
  inference    prepare_for_inference, add_inference_args + make_synthesizer (a generator's or vocoder's call with
               its own flags), scriptable_parts or script_for_inference (--torchscript), quantizable (--int8; a
               model with an `int8_copy()` method brings its own int8 form)
  export       export_plan (common/export.py: the graphs export.py writes to ONNX or TorchScript),
               onnx_runtime_options (inference.py --backend onnxruntime: common/onnx_backend.py)
  evaluation   evaluation_pairs
  data         teacher_forced_alignment (a generator whose attention gives other models their durations),
               teacher_forcing (a generator whose teacher-forced mels a vocoder is fine-tuned on)
  benchmarks   benchmark_cases (common/benchmarking.py: what benchmarks/ times and measures of this model)
  upstream     upstream_train_args (train.py run with the command line of the model's original repository), hub
               (NVIDIA's torch.hub entry point: download URLs, return shape; hubconf.py)
Every model instance has an `n_mel_channels` attribute: the mel bands a generator makes or a vocoder takes.
"""
import argparse
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

import torch

from common.data_args import add_audio_args

GENERATOR = 'generator'
VOCODER = 'vocoder'
ROLES = (GENERATOR, VOCODER)


class MelGenerator(Protocol):
    """A generator ready for synthesis, as a spec's make_synthesizer builds it."""
    description: str
    n_mel_channels: int
    # the text front end this model was trained with: encode_text(text) -> symbol ids (common/text/processing.py)
    text_processing: object
    # the warning and the JSON-log event for an item that hit the generator's length limit (None: it cannot)
    overrun_message: Optional[str]
    overrun_event: Optional[dict]

    def __call__(self, text: torch.Tensor, lengths: torch.Tensor):
        """(B, T) symbol ids padded with 0 and their lengths -> (mel (B, n_mel, frames), mel lengths (B,),
        per-item bool tensor of overruns or None)."""


class Vocoder(Protocol):
    """A vocoder ready for synthesis, as a spec's make_synthesizer builds it."""
    description: str
    n_mel_channels: int
    hop_length: int  # audio samples per mel frame
    # mel frames of context a chunk needs on either side for its audio to equal the whole mel's (streaming,
    # common/streaming.py): the receptive field in frames, the denoiser's included, from the architecture
    stream_context_frames: int

    def __call__(self, mel: torch.Tensor, autocast) -> torch.Tensor:
        """(B, n_mel, frames) -> float32 audio (B, frames * hop_length); `autocast` is the context for the model."""


@dataclass(frozen=True)
class TeacherForcing:
    """How prepare_dataset.py --teacher-mels-from NAME runs a trained generator over its own training data, so that a
    vocoder can be fine-tuned on the mels it makes for each recorded clip (frame-aligned with the audio)."""
    # (model) -> the kind of prepare_dataset.py's derived filelist the model trains on (a DERIVED_FILELISTS key)
    training_filelist: Callable
    # (model, args) -> args: the data flags set so that the spec's get_dataset reads that filelist as training did
    data_args: Callable
    # (model, x) -> [(n_mel, frames) per item, in x's order]: the teacher-forced output of a batch as the spec's
    # batch_to_device gives it, each item cut to its own mel length
    mels: Callable


def _nothing(*_):
    return None


def _no_images(y_pred, y):
    return {}


def _unchanged(model):
    return model


def _strict_load(model, state_dict):
    model.load_state_dict(state_dict)


def _no_options(args):
    return {}


def _no_inference_args(parser):
    return parser


def _default_training_step(model, loss_function, args, precision):
    from common.training import GradientStep  # common.training imports nothing of the specs: no cycle, just late
    return GradientStep.from_args(model, loss_function, args, precision)


@dataclass(frozen=True)
class ModelSpec:
    # ---- what the model is
    name: str                   # -m NAME, the checkpoints' model_name and file names, hub entry points
    model_class: Callable       # model_class(**config): the class, or a function that picks one by config
    role: str                   # GENERATOR or VOCODER
    state_dict_marker: str      # a key prefix that only this model's state dicts have
    add_model_args: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]  # its flags, with defaults
    model_config: Callable[[argparse.Namespace], dict]                             # constructor kwargs from flags

    # ---- training: data and loss
    get_dataset: Callable       # (args, filelist path) -> Dataset
    get_collate_fn: Callable    # (args) -> collate function
    batch_to_device: Callable   # (batch, device) -> (x, y, number of items)
    item_unit: str              # what `number of items` counts: 'mel frames', 'audio samples'
    build_loss: Callable        # (args) -> loss module: loss, or (loss, dict of detached metrics)

    # ---- optional hooks (defaults: nothing special)
    prepare_for_training: Callable = _nothing        # (model, args): e.g. statistics kept in buffers
    check_training_data: Callable = _nothing         # (model, dataset): FilelistError for a line it cannot take
    start_epoch: Callable = _nothing                 # (loss function, epoch from 1): before each epoch's steps
    validation_images: Callable = _no_images         # (y_pred, y) -> {tag: 2-D array} for TensorBoard
    build_training_step: Callable = _default_training_step  # (model, loss, args, precision) -> a training step
    config_from_state_dict: Optional[Callable] = None  # (state_dict) -> config; None: the flag defaults
    load_weights: Callable = _strict_load            # (model, state_dict)
    prepare_for_inference: Callable = _unchanged     # (model) -> model, e.g. weight norm folded
    add_inference_args: Callable = _no_inference_args  # (parser) -> parser: inference.py flags of this model
    make_synthesizer: Optional[Callable] = None      # (model, args, device) -> MelGenerator or Vocoder
    scriptable_parts: tuple = ()                      # submodules --torchscript scripts (ModuleLists per element)
    script_for_inference: Optional[Callable] = None   # (model) -> (model, what was done): --torchscript for the
                                                      # whole model, instead of scriptable_parts
    quantizable: bool = True                          # --int8 applies
    export_plan: Optional[Callable] = None            # (model, args) -> ExportPlan (common/export.py)
    onnx_runtime_options: Callable = _no_options      # (args) -> the model's inference flags as keywords of
                                                      # common/onnx_runtime.load (and 'denoising_strength')
    evaluation_pairs: Optional[Callable] = None       # (model, args) -> iterator of (predicted mel, target mel)
    # (model, text ids (B, T) and mels (B, n_mel, F) padded, their lengths (B,)) -> alignments (B, F, T)
    teacher_forced_alignment: Optional[Callable] = None
    teacher_forcing: Optional[TeacherForcing] = None  # a generator's teacher-forced mels (prepare_dataset.py)
    benchmark_cases: tuple = ()  # SpeedCase, QualityCase, TrainingCase (common/benchmarking.py) for benchmarks/
    upstream_train_args: Optional[Callable] = None  # (argv) -> our train.py arguments for the command line of the
                                                    # model's original repository (NVIDIA/tacotron2, NVIDIA/waveglow),
                                                    # None for any other command line
    hub: Optional[object] = None  # common.upstream_hub.HubEntry: what NVIDIA's torch.hub entry point of the model does

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f'{self.name}: role must be one of {", ".join(ROLES)}, got {self.role!r}')

    @property
    def cli_name(self):
        """How inference.py's flags name this model: its checkpoint flag --tacotron2, --int8 tacotron2."""
        return self.name.lower()

    @property
    def inference_flag(self):
        return f'--{self.cli_name}'

    def default_config(self, flags=()):
        """The constructor kwargs at the flag defaults (the reference defaults), or with these model flags."""
        parser = self.add_model_args(add_audio_args(argparse.ArgumentParser(add_help=False)))
        return self.model_config(parser.parse_args(list(flags)))

