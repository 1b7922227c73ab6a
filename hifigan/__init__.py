"""HiFi-GAN: a GAN vocoder from mel spectrogram to audio (the generator; its discriminators train it)."""
from common.model_spec import VOCODER, ModelSpec

from .arg_parser import add_inference_args, add_model_args, model_config
from .benchmark import CASES as BENCHMARK_CASES
from .checkpoint_compat import config_from_state_dict, load_generator_weights
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .export import export_plan
from .fast_inference import traced_generator
from .loss_function import MelLoss
from .mel import mel_transforms
from .model import Generator as Model
from .synthesis import (HiFiGANVocoder, check_hop_length, evaluation_pairs, onnx_runtime_options,
                        validation_images)
from .training_step import GANStep
from .upstream_hub import HUB


def build_loss(args):
    """The validation loss, and the mel term of the generator's: L1 between log-mels (loss mel, full band)."""
    return MelLoss(mel_transforms(args)[1])


def prepare_for_training(model, args):
    """A warm start's generator brings its own upsampling: it must still fit --hop-length."""
    check_hop_length(model, args.hop_length, f'--checkpoint-path {args.checkpoint_path}' if args.checkpoint_path
                     else '--upsample-rates')


SPEC = ModelSpec(
    name='HiFiGAN', model_class=Model, role=VOCODER, state_dict_marker='conv_pre.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=get_dataset, get_collate_fn=get_collate_fn, batch_to_device=batch_to_device,
    item_unit='audio samples', build_loss=build_loss,
    prepare_for_training=prepare_for_training, validation_images=validation_images,
    build_training_step=GANStep.from_args,
    config_from_state_dict=config_from_state_dict,
    load_weights=load_generator_weights, prepare_for_inference=Model.remove_weight_norm,
    add_inference_args=add_inference_args, make_synthesizer=HiFiGANVocoder, script_for_inference=traced_generator,
    evaluation_pairs=evaluation_pairs,
    benchmark_cases=BENCHMARK_CASES,
    export_plan=export_plan,
    onnx_runtime_options=onnx_runtime_options,
    hub=HUB,
)
