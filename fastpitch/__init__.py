"""FastPitch 1.0: parallel text to mel spectrogram with explicit durations and pitch (the names every model
package exposes)."""
from .arg_parser import add_model_args, model_config
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .loss_function import FastPitchLoss
from .model import FastPitch as Model

ITEMS = 'mel frames'
STATE_DICT_MARKER = 'encoder.word_emb.'


def build_loss(args):
    return FastPitchLoss(dur_predictor_loss_scale=args.dur_predictor_loss_scale,
                         pitch_predictor_loss_scale=args.pitch_predictor_loss_scale)
