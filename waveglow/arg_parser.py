"""WaveGlow flags (reference defaults) and the constructor config built from them.

The mel size comes from the shared audio flags (common.data_args: --n-mel-channels).
"""
from common.cli import non_negative_float


def add_model_args(parser):
    group = parser.add_argument_group('WaveGlow parameters')
    group.add_argument('--flows', default=12, type=int, help='Number of flows (1x1 convolution + coupling layer)')
    group.add_argument('--groups', default=8, type=int,
                       help='Audio samples folded into the channels of one flow step')
    group.add_argument('--early-every', default=4, type=int,
                       help='Flows between two early outputs (channels sent straight to z)')
    group.add_argument('--early-size', default=2, type=int, help='Channels of each early output')
    group.add_argument('--sigma', default=1.0, type=float,
                       help='Standard deviation of the Gaussian prior in the training loss')
    group.add_argument('--segment-length', default=4000, type=int,
                       help='Audio samples per training example (random crop)')
    wavenet = parser.add_argument_group('WaveGlow coupling network (WN) parameters')
    wavenet.add_argument('--wn-kernel-size', default=3, type=int, help='Kernel size of the dilated convolutions')
    wavenet.add_argument('--wn-channels', default=512, type=int, help='Channels of the dilated convolutions')
    wavenet.add_argument('--wn-layers', default=8, type=int, help='Dilated convolution layers per coupling network')
    return parser


def model_config(args):
    return {
        'n_mel_channels': args.n_mel_channels,
        'n_flows': args.flows,
        'n_group': args.groups,
        'n_early_every': args.early_every,
        'n_early_size': args.early_size,
        'WN_config': {
            'n_layers': args.wn_layers,
            'kernel_size': args.wn_kernel_size,
            'n_channels': args.wn_channels,
        },
    }


def add_inference_args(parser):
    """inference.py's WaveGlow flags."""
    group = parser.add_argument_group('WaveGlow synthesis')
    group.add_argument('--sigma-infer', type=non_negative_float, default=0.9,
                       help='Standard deviation of WaveGlow\'s noise')
    group.add_argument('--denoising-strength', type=non_negative_float, default=0.01,
                       help='Strength of the WaveGlow denoiser (0 switches it off)')
    group.add_argument('--wn-channels', type=int,
                       help='Accepted for the reference scripts; the size is read from the checkpoint')
    return parser
