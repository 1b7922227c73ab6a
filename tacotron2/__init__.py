"""Tacotron 2: text to mel spectrogram with location-sensitive attention."""
from common.model_spec import GENERATOR, ModelSpec

from .arg_parser import add_inference_args, add_model_args, model_config
from .benchmark import CASES as BENCHMARK_CASES
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .export import export_plan
from .loss_function import Tacotron2Loss
from .model import Tacotron2 as Model
from .synthesis import TEACHER_FORCING, Tacotron2Generator, onnx_runtime_options
from .upstream_cli import translate as upstream_train_args
from .upstream_hub import HUB


def build_loss(args):
    return Tacotron2Loss()


def validation_images(y_pred, y):
    """2-D arrays (drawn with row 0 at the bottom) of the first validation item, for TensorBoard."""
    _, mel_out_postnet, _, alignments = y_pred
    return {'alignment': alignments[0].t(), 'mel_predicted': mel_out_postnet[0], 'mel_target': y[0][0]}


def teacher_forced_alignment(model, text, text_lengths, mel, mel_lengths):
    return model.teacher_forced_alignment(text, text_lengths, mel)


SPEC = ModelSpec(
    name='Tacotron2', model_class=Model, role=GENERATOR, state_dict_marker='decoder.attention_rnn.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=get_dataset, get_collate_fn=get_collate_fn, batch_to_device=batch_to_device, item_unit='mel frames',
    build_loss=build_loss, validation_images=validation_images,
    add_inference_args=add_inference_args, make_synthesizer=Tacotron2Generator,
    # the autoregressive decoder loop is Python control flow: it stays eager
    scriptable_parts=('encoder', 'postnet'),
    teacher_forced_alignment=teacher_forced_alignment,
    teacher_forcing=TEACHER_FORCING,
    benchmark_cases=BENCHMARK_CASES,
    export_plan=export_plan,
    onnx_runtime_options=onnx_runtime_options,
    hub=HUB,
    upstream_train_args=upstream_train_args,
)
