"""Tacotron 2: text to mel spectrogram with location-sensitive attention (the names every model package exposes)."""
from .arg_parser import add_model_args, model_config
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .loss_function import Tacotron2Loss
from .model import Tacotron2 as Model

ITEMS = 'mel frames'
STATE_DICT_MARKER = 'decoder.attention_rnn.'


def build_loss(args):
    return Tacotron2Loss()


def validation_images(y_pred, y):
    """2-D arrays (drawn with row 0 at the bottom) of the first validation item, for TensorBoard."""
    _, mel_out_postnet, _, alignments = y_pred
    return {'alignment': alignments[0].t(), 'mel_predicted': mel_out_postnet[0], 'mel_target': y[0][0]}
