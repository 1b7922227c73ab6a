"""WaveGlow: a flow-based vocoder from mel spectrogram to audio."""
from common.model_spec import VOCODER, ModelSpec

from .arg_parser import add_inference_args, add_model_args, model_config
from .benchmark import CASES as BENCHMARK_CASES
from .checkpoint_compat import config_from_state_dict, convert_nvidia_state_dict, has_weight_norm
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .export import export_plan
from .loss_function import WaveGlowLoss
from .model import WaveGlow as Model
from .synthesis import WaveGlowVocoder, evaluation_pairs, onnx_runtime_options
from .upstream_config import translate as upstream_train_args
from .upstream_hub import HUB


def build_loss(args):
    return WaveGlowLoss(sigma=args.sigma)


def load_weights(model, state_dict):
    """Training checkpoints hold weight-normed convolutions, exported ones folded weights; NVIDIA/waveglow's
    one concatenated cond_layer per flow is split into our per-layer cond_layers."""
    state_dict = convert_nvidia_state_dict(state_dict)
    if not has_weight_norm(state_dict):
        Model.remove_weightnorm(model)
    model.load_state_dict(state_dict)


SPEC = ModelSpec(
    name='WaveGlow', model_class=Model, role=VOCODER, state_dict_marker='upsample.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=get_dataset, get_collate_fn=get_collate_fn, batch_to_device=batch_to_device,
    item_unit='audio samples', build_loss=build_loss,
    config_from_state_dict=config_from_state_dict, load_weights=load_weights,
    prepare_for_inference=Model.remove_weightnorm,
    add_inference_args=add_inference_args, make_synthesizer=WaveGlowVocoder,
    scriptable_parts=('WN',),  # the flows' loop is Python control flow: it stays eager
    evaluation_pairs=evaluation_pairs,
    benchmark_cases=BENCHMARK_CASES,
    export_plan=export_plan,
    onnx_runtime_options=onnx_runtime_options,
    hub=HUB,
    upstream_train_args=upstream_train_args,
)
