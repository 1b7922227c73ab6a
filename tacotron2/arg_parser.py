"""Tacotron 2 flags (reference names and defaults) and the constructor config built from them.

The mel size comes from the shared audio flags (common.data_args: --n-mel-channels).
"""
import argparse

from common.cli import positive_int
from common.text.symbols import symbols


def _bool_flag(value):
    """'--mask-padding' alone means True; an explicit value must read as a boolean (the reference took one)."""
    lowered = value.lower()
    if lowered in ('1', 'true', 'yes'):
        return True
    if lowered in ('0', 'false', 'no'):
        return False
    raise argparse.ArgumentTypeError(f'expected true/false, got {value!r}')


def add_model_args(parser):
    misc = parser.add_argument_group('Tacotron2 misc parameters')
    misc.add_argument('--mask-padding', nargs='?', const=True, default=False, type=_bool_flag,
                      help='Zero the mel outputs (and saturate the gate) past each target length in training')

    embedding = parser.add_argument_group('Tacotron2 symbols parameters')
    embedding.add_argument('--n-symbols', default=len(symbols), type=int, help='Number of symbols in the dictionary')
    embedding.add_argument('--symbols-embedding-dim', default=512, type=int, help='Input embedding dimension')

    encoder = parser.add_argument_group('Tacotron2 encoder parameters')
    encoder.add_argument('--encoder-kernel-size', default=5, type=int, help='Encoder kernel size')
    encoder.add_argument('--encoder-n-convolutions', default=3, type=int, help='Number of encoder convolutions')
    encoder.add_argument('--encoder-embedding-dim', default=512, type=int, help='Encoder embedding dimension')

    decoder = parser.add_argument_group('Tacotron2 decoder parameters')
    decoder.add_argument('--n-frames-per-step', default=1, type=int,
                         help='Mel frames produced per decoder step (only 1 is supported)')
    decoder.add_argument('--decoder-rnn-dim', default=1024, type=int, help='Units in the decoder LSTM')
    decoder.add_argument('--prenet-dim', default=256, type=int, help='ReLU units in each prenet layer')
    decoder.add_argument('--max-decoder-steps', default=2000, type=int,
                         help='Most mel frames generated per input at inference')
    decoder.add_argument('--gate-threshold', default=0.5, type=float,
                         help='Stop-token probability above which an item has finished')
    decoder.add_argument('--p-attention-dropout', default=0.1, type=float,
                         help='Dropout probability on the attention LSTM output')
    decoder.add_argument('--p-decoder-dropout', default=0.1, type=float,
                         help='Dropout probability on the decoder LSTM output')
    decoder.add_argument('--decoder-no-early-stopping', action='store_true',
                         help='Always run max-decoder-steps instead of stopping once every item has finished')

    attention = parser.add_argument_group('Tacotron2 attention parameters')
    attention.add_argument('--attention-rnn-dim', default=1024, type=int, help='Units in the attention LSTM')
    attention.add_argument('--attention-dim', default=128, type=int,
                           help='Dimension of the attention hidden representation')

    location = parser.add_argument_group('Tacotron2 location parameters')
    location.add_argument('--attention-location-n-filters', default=32, type=int,
                          help='Filters of the location-sensitive attention convolution')
    location.add_argument('--attention-location-kernel-size', default=31, type=int,
                          help='Kernel size of the location-sensitive attention convolution')

    postnet = parser.add_argument_group('Tacotron2 postnet parameters')
    postnet.add_argument('--postnet-embedding-dim', default=512, type=int, help='Postnet channels')
    postnet.add_argument('--postnet-kernel-size', default=5, type=int, help='Postnet kernel size')
    postnet.add_argument('--postnet-n-convolutions', default=5, type=int, help='Number of postnet convolutions')
    return parser


_CONFIG_KEYS = (
    'mask_padding', 'n_mel_channels', 'n_symbols', 'symbols_embedding_dim', 'encoder_kernel_size',
    'encoder_n_convolutions', 'encoder_embedding_dim', 'attention_rnn_dim', 'attention_dim',
    'attention_location_n_filters', 'attention_location_kernel_size', 'n_frames_per_step', 'decoder_rnn_dim',
    'prenet_dim', 'max_decoder_steps', 'gate_threshold', 'p_attention_dropout', 'p_decoder_dropout',
    'postnet_embedding_dim', 'postnet_kernel_size', 'postnet_n_convolutions', 'decoder_no_early_stopping',
)


def model_config(args):
    """Tacotron2(**config) keyword arguments from parsed flags (audio flags included, for n_mel_channels)."""
    return {key: getattr(args, key) for key in _CONFIG_KEYS}


def add_inference_args(parser):
    """inference.py's Tacotron 2 flags."""
    group = parser.add_argument_group('Tacotron 2 synthesis')
    group.add_argument('--max-decoder-steps', type=positive_int,
                       help='Decoder step limit (default: the checkpoint\'s)')
    return parser
