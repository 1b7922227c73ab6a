"""HiFi-GAN flags (defaults: the published V1 config and NVIDIA's training recipe) and the generator config built
from them.

The small V3 config:  --resblock 2 --upsample-rates 8 8 4 --upsample-kernel-sizes 16 16 8
                      --upsample-initial-channel 256 --resblock-kernel-sizes 3 5 7
                      --resblock-dilation-sizes 1,2 2,6 3,12
The residual kernel order defaults to V1's 3 7 11 (DLE HEAD's parser says 11 7 3; a checkpoint brings its own).
The mel size and framing come from the shared audio flags (common.data_args); the generator's upsampling rates must
multiply to --hop-length.
"""
import argparse
import math

from common.cli import non_negative_float, positive_float, positive_int

V1_CONFIG = {
    'upsample_rates': [8, 8, 2, 2],
    'upsample_kernel_sizes': [16, 16, 4, 4],
    'upsample_initial_channel': 512,
    'resblock': '1',
    'resblock_kernel_sizes': [3, 7, 11],
    'resblock_dilation_sizes': [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
}
V3_CONFIG = {
    'upsample_rates': [8, 8, 4],
    'upsample_kernel_sizes': [16, 16, 8],
    'upsample_initial_channel': 256,
    'resblock': '2',
    'resblock_kernel_sizes': [3, 5, 7],
    'resblock_dilation_sizes': [[1, 2], [2, 6], [3, 12]],
}
MPD_PERIODS = [2, 3, 5, 7, 11]


def int_list(text):
    """'1,3,5' or '[1, 3, 5]' (as a config file's nested list arrives) -> [1, 3, 5]."""
    try:
        values = [int(part) for part in text.strip('[] ').replace(',', ' ').split()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f'{text!r} is not a comma-separated list of positive integers')
    return values


def add_model_args(parser):
    generator = parser.add_argument_group('HiFi-GAN generator')
    generator.add_argument('--upsample-rates', nargs='+', type=positive_int, default=V1_CONFIG['upsample_rates'],
                           help='Upsampling factor of each stage (their product is --hop-length)')
    generator.add_argument('--upsample-kernel-sizes', nargs='+', type=positive_int,
                           default=V1_CONFIG['upsample_kernel_sizes'],
                           help='Kernel size of each stage\'s transposed convolution')
    generator.add_argument('--upsample-initial-channel', type=positive_int,
                           default=V1_CONFIG['upsample_initial_channel'],
                           help='Channels before the first stage (halved by every stage)')
    generator.add_argument('--resblock', choices=('1', '2'), default=V1_CONFIG['resblock'],
                           help='Residual block type: 1 (V1, V2: three conv pairs) or 2 (V3: two convs)')
    generator.add_argument('--resblock-kernel-sizes', nargs='+', type=positive_int,
                           default=V1_CONFIG['resblock_kernel_sizes'],
                           help='Kernel size of each residual block of a stage')
    generator.add_argument('--resblock-dilation-sizes', nargs='+', type=int_list,
                           default=V1_CONFIG['resblock_dilation_sizes'],
                           help='Dilations of each residual block, one comma-separated list per block')

    training = parser.add_argument_group('HiFi-GAN training')
    training.add_argument('--mpd-periods', nargs='+', type=positive_int, default=MPD_PERIODS,
                          help='Periods of the multi-period discriminator')
    training.add_argument('--discriminator-channel-divisor', type=positive_int, default=1,
                          help='Divide the discriminators\' channel widths by this (1: the reference widths)')
    training.add_argument('--segment-size', type=positive_int, default=8192,
                          help='Audio samples per training example (a random window, a multiple of --hop-length)')
    training.add_argument('--mel-fmax-loss', type=positive_float, default=None,
                          help='Highest mel filter frequency of the mel loss (default: the Nyquist frequency)')
    training.add_argument('--fine-tuning', action='store_true',
                          help='Train on mels written by a mel generator: filelist lines wavs/ID.wav|MELS/ID.pt|text')
    # NVIDIA's HiFi-GAN recipe for flags that train.py defines for every model: AdamW with these betas and torch's
    # default weight decay, the learning rate times 0.9998 after every epoch, no gradient clipping
    parser.set_defaults(optimizer='adamw', optimizer_betas=[0.8, 0.99], weight_decay=0.01, lr_decay=0.9998,
                        grad_clip_thresh=math.inf)
    return parser


def model_config(args):
    hop = math.prod(args.upsample_rates)
    if hop != args.hop_length:
        raise ValueError(f'HiFi-GAN: --upsample-rates {" ".join(map(str, args.upsample_rates))} make {hop} samples '
                         f'per mel frame, but --hop-length is {args.hop_length}')
    return {
        'upsample_rates': list(args.upsample_rates),
        'upsample_kernel_sizes': list(args.upsample_kernel_sizes),
        'upsample_initial_channel': args.upsample_initial_channel,
        'resblock': args.resblock,
        'resblock_kernel_sizes': list(args.resblock_kernel_sizes),
        'resblock_dilation_sizes': [list(d) for d in args.resblock_dilation_sizes],
        'n_mel_channels': args.n_mel_channels,
    }


def add_inference_args(parser):
    """inference.py's HiFi-GAN flags."""
    group = parser.add_argument_group('HiFi-GAN synthesis')
    group.add_argument('--hifigan-denoising-strength', type=non_negative_float, default=0.0,
                       help='Strength of the HiFi-GAN denoiser (0, the reference default, switches it off; '
                            'NVIDIA\'s example scripts use 0.005)')
    return parser
