"""FastPitch 1.0: parallel text to mel spectrogram with explicit durations and pitch."""
from common.model_spec import GENERATOR, ModelSpec

from .arg_parser import add_inference_args, add_model_args, model_config
from .benchmark import CASES as BENCHMARK_CASES
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .loss_function import FastPitchLoss
from .model import FastPitch as Model
from .pitch import read_pitch_stats
from .synthesis import FastPitchGenerator, evaluation_pairs


def build_loss(args):
    return FastPitchLoss(dur_predictor_loss_scale=args.dur_predictor_loss_scale,
                         pitch_predictor_loss_scale=args.pitch_predictor_loss_scale)


def validation_images(y_pred, y):
    """2-D arrays (drawn with row 0 at the bottom) of the first validation item, for TensorBoard."""
    return {'mel_predicted': y_pred[0][0].t(), 'mel_target': y[0][0]}


def prepare_for_training(model, args):
    """Keep the training set's pitch statistics (Hz) in the model, so that inference can speak in Hz."""
    if args.pitch_mean_std_file:
        mean, std = read_pitch_stats(args.pitch_mean_std_file)
        model.pitch_mean.fill_(mean)
        model.pitch_std.fill_(std)


SPEC = ModelSpec(
    name='FastPitch', model_class=Model, role=GENERATOR, state_dict_marker='encoder.word_emb.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=get_dataset, get_collate_fn=get_collate_fn, batch_to_device=batch_to_device, item_unit='mel frames',
    build_loss=build_loss, prepare_for_training=prepare_for_training, validation_images=validation_images,
    add_inference_args=add_inference_args, make_synthesizer=FastPitchGenerator,
    # the length regulator between them is Python control flow: it stays eager
    scriptable_parts=('encoder', 'decoder', 'duration_predictor', 'pitch_predictor'),
    evaluation_pairs=evaluation_pairs,
    benchmark_cases=BENCHMARK_CASES,
)
