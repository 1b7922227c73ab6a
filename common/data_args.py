"""Command-line flags for audio and text processing, shared by every model and every entry point.

These are the only place where the audio and text defaults live (LJSpeech: 22.05 kHz, 80 mel bands), and where the
STFT sizes of each sampling rate do (`STFT_PRESETS`): `--sampling-rate 44100` alone gives the reference's 44.1 kHz
sizes; --filter-length, --hop-length and --win-length, wherever they stand on the command line, win.
"""
import argparse

from common.cli import non_negative_float, positive_float, positive_int

# {sampling rate: (filter_length, hop_length, win_length)}: hops of 10.7-12.5 ms and windows of 43-50 ms, like the
# reference's 22.05 kHz sizes (1024, 256, 1024) and its 44.1 kHz preset (2048, 512, 2048)
STFT_PRESETS = {16000: (1024, 200, 800), 22050: (1024, 256, 1024), 24000: (1024, 256, 1024),
                44100: (2048, 512, 2048), 48000: (2048, 512, 2048)}
DEFAULT_SAMPLING_RATE = 22050
STFT_SIZES = ('filter_length', 'hop_length', 'win_length')
SIZES_GIVEN = 'stft_sizes_given'  # the namespace's record of the sizes given as flags: a preset leaves them be


def stft_preset(sampling_rate):
    """(filter_length, hop_length, win_length) for a sampling rate: its preset, else the 22.05 kHz sizes scaled to
    keep the hop near 11.6 ms (powers of two for the filter and window)."""
    if sampling_rate in STFT_PRESETS:
        return STFT_PRESETS[sampling_rate]
    filter_length = 1 << max(6, round(sampling_rate * 1024 / DEFAULT_SAMPLING_RATE).bit_length() - 1)
    return filter_length, filter_length // 4, filter_length


class _SamplingRate(argparse.Action):
    """--sampling-rate R also sets the STFT sizes not given as flags to R's preset."""

    def __call__(self, parser, namespace, value, option_string=None):
        setattr(namespace, self.dest, value)
        given = getattr(namespace, SIZES_GIVEN, ())
        for name, size in zip(STFT_SIZES, stft_preset(value)):
            if name not in given:
                setattr(namespace, name, size)


class _StftSize(argparse.Action):
    """An STFT size given as a flag: kept whatever --sampling-rate says."""

    def __call__(self, parser, namespace, value, option_string=None):
        setattr(namespace, self.dest, value)
        setattr(namespace, SIZES_GIVEN, (*getattr(namespace, SIZES_GIVEN, ()), self.dest))


def add_audio_args(parser):
    group = parser.add_argument_group('audio parameters')
    group.add_argument('--max-wav-value', type=positive_float, default=32768.0,
                       help='Full-scale value of integer audio')
    filter_length, hop_length, win_length = STFT_PRESETS[DEFAULT_SAMPLING_RATE]
    group.add_argument('--sampling-rate', type=positive_int, default=DEFAULT_SAMPLING_RATE, action=_SamplingRate,
                       help='Sampling rate in Hz; sets the STFT sizes not given to its preset (16000: 1024/200/800, '
                            '22050 and 24000: 1024/256/1024, 44100 and 48000: 2048/512/2048)')
    group.add_argument('--filter-length', type=positive_int, default=filter_length, action=_StftSize,
                       help='STFT size (n_fft)')
    group.add_argument('--hop-length', type=positive_int, default=hop_length, action=_StftSize,
                       help='STFT hop in samples')
    group.add_argument('--win-length', type=positive_int, default=win_length, action=_StftSize,
                       help='STFT window length in samples')
    group.add_argument('--n-mel-channels', type=positive_int, default=80, help='Number of mel bands')
    group.add_argument('--mel-fmin', type=non_negative_float, default=0.0, help='Lowest mel filter frequency (Hz)')
    group.add_argument('--mel-fmax', type=positive_float, default=8000.0, help='Highest mel filter frequency (Hz)')
    return parser


def stft_kwargs(args):
    """Keyword arguments for common.stft.TacotronSTFT from parsed flags."""
    return dict(filter_length=args.filter_length, hop_length=args.hop_length, win_length=args.win_length,
                n_mel_channels=args.n_mel_channels, sampling_rate=args.sampling_rate,
                mel_fmin=args.mel_fmin, mel_fmax=args.mel_fmax)


DEFAULT_TEXT_CLEANERS = ['english_cleaners']


def add_text_args(parser):
    group = parser.add_argument_group('text parameters')
    group.add_argument('--text-cleaners', nargs='*', default=DEFAULT_TEXT_CLEANERS,
                       help='Cleaners applied before text is turned into symbol ids')
    return parser


def add_data_args(parser):
    group = parser.add_argument_group('dataset parameters')
    group.add_argument('-d', '--dataset-path', type=str, default='./',
                       help='Folder that the filelist paths are relative to')
    group.add_argument('--training-files', type=str, required=True, help='Filelist of the training clips')
    group.add_argument('--validation-files', type=str, required=True, help='Filelist of the validation clips')
    group.add_argument('--load-mel-from-disk', action='store_true',
                       help='Tacotron 2: read mels saved by prepare_dataset.py (filelist lines mels/ID.pt|text) '
                            'instead of computing them from the WAVs')
    return parser
