"""FastPitch 1.0 flags (reference defaults) and the constructor config built from them.

The mel size comes from the shared audio flags (common.data_args: --n-mel-channels).
"""
from common.cli import positive_float


def _add_fft_args(parser, prefix, title):
    group = parser.add_argument_group(title)
    group.add_argument(f'--{prefix}-fft-n-layers', default=6, type=int, help='Number of FFT blocks')
    group.add_argument(f'--{prefix}-fft-n-heads', default=1, type=int, help='Number of attention heads')
    group.add_argument(f'--{prefix}-fft-d-head', default=64, type=int, help='Dimension of an attention head')
    group.add_argument(f'--{prefix}-fft-conv1d-kernel-size', default=3, type=int,
                       help='Kernel size of the feed-forward convolutions')
    group.add_argument(f'--{prefix}-fft-conv1d-filter-size', default=1536, type=int,
                       help='Inner channels of the feed-forward convolutions')
    group.add_argument(f'--{prefix}-fft-output-size', default=384, type=int, help='Output dimension')
    group.add_argument(f'--p-{prefix}-fft-dropout', default=0.1, type=float, help='Dropout probability')
    group.add_argument(f'--p-{prefix}-fft-dropatt', default=0.1, type=float,
                       help='Dropout probability on attention weights')
    group.add_argument(f'--p-{prefix}-fft-dropemb', default=0.0, type=float,
                       help='Dropout probability on the (positional) embedding')


def _add_predictor_args(parser, prefix, title):
    group = parser.add_argument_group(title)
    group.add_argument(f'--{prefix}-predictor-kernel-size', default=3, type=int, help='Convolution kernel size')
    group.add_argument(f'--{prefix}-predictor-filter-size', default=256, type=int, help='Convolution channels')
    group.add_argument(f'--p-{prefix}-predictor-dropout', default=0.1, type=float, help='Dropout probability')
    group.add_argument(f'--{prefix}-predictor-n-layers', default=2, type=int, help='Number of convolutions')


def add_model_args(parser):
    group = parser.add_argument_group('FastPitch architecture')
    group.add_argument('--max-seq-len', default=2048, type=int, help='Kept for config compatibility (unused)')
    group.add_argument('--n-symbols', default=148, type=int,
                       help='Kept for config compatibility (the embedding follows the symbol set)')
    group.add_argument('--symbols-embedding-dim', default=384, type=int,
                       help='Symbol embedding and model dimension')
    _add_fft_args(parser, 'in', 'FastPitch input FFT (encoder)')
    _add_fft_args(parser, 'out', 'FastPitch output FFT (decoder)')
    _add_predictor_args(parser, 'dur', 'FastPitch duration predictor')
    _add_predictor_args(parser, 'pitch', 'FastPitch pitch predictor')

    training = parser.add_argument_group('FastPitch training')
    training.add_argument('--dur-predictor-loss-scale', default=1.0, type=float,
                          help='Weight of the duration predictor loss')
    training.add_argument('--pitch-predictor-loss-scale', default=1.0, type=float,
                          help='Weight of the pitch predictor loss')
    training.add_argument('--pitch-mean-std-file', default=None, type=str,
                          help='JSON file {"mean": Hz, "std": Hz} of training-set pitch, stored in the model')
    # FastPitch's own defaults for flags that train.py defines for every model (the reference FastPitch train.py)
    parser.set_defaults(optimizer='lamb', optimizer_betas=[0.9, 0.98], optimizer_eps=1e-9, warmup_steps=1000,
                        grad_clip_thresh=1000.0)
    return parser


_CONFIG_KEYS = (
    'max_seq_len', 'n_symbols', 'symbols_embedding_dim',
    'in_fft_n_layers', 'in_fft_n_heads', 'in_fft_d_head', 'in_fft_conv1d_kernel_size',
    'in_fft_conv1d_filter_size', 'in_fft_output_size', 'p_in_fft_dropout', 'p_in_fft_dropatt',
    'p_in_fft_dropemb',
    'out_fft_n_layers', 'out_fft_n_heads', 'out_fft_d_head', 'out_fft_conv1d_kernel_size',
    'out_fft_conv1d_filter_size', 'out_fft_output_size', 'p_out_fft_dropout', 'p_out_fft_dropatt',
    'p_out_fft_dropemb',
    'dur_predictor_kernel_size', 'dur_predictor_filter_size', 'p_dur_predictor_dropout',
    'dur_predictor_n_layers',
    'pitch_predictor_kernel_size', 'pitch_predictor_filter_size', 'p_pitch_predictor_dropout',
    'pitch_predictor_n_layers',
)


def model_config(args):
    """FastPitch(**config) keyword arguments from parsed flags (audio flags included)."""
    config = {'n_mel_channels': args.n_mel_channels}
    config.update({key: getattr(args, key) for key in _CONFIG_KEYS})
    return config


def add_inference_args(parser):
    """inference.py's FastPitch controls: pace and pitch (applied in the order flatten, invert, amplify, shift)."""
    group = parser.add_argument_group('FastPitch controls')
    group.add_argument('--pace', type=positive_float, default=1.0, help='Speaking rate (above 1: faster)')
    group.add_argument('--pitch-transform-flatten', action='store_true', help='Flatten the pitch')
    group.add_argument('--pitch-transform-invert', action='store_true', help='Invert the pitch around its mean')
    group.add_argument('--pitch-transform-amplify', type=float, default=1.0, metavar='F',
                       help='Scale the pitch\'s deviation from its mean')
    group.add_argument('--pitch-transform-shift', type=float, default=0.0, metavar='HZ',
                       help='Raise (or lower) the pitch by HZ')
    return parser
