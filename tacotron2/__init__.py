"""Tacotron 2: text to mel spectrogram with location-sensitive attention (the names every model package exposes)."""
from .arg_parser import add_model_args, model_config
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .loss_function import Tacotron2Loss
from .model import Tacotron2 as Model

ITEMS = 'mel frames'
STATE_DICT_MARKER = 'decoder.attention_rnn.'


def build_loss(args):
    return Tacotron2Loss()
