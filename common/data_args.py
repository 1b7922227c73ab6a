"""Command-line flags for audio and text processing, shared by every model and every entry point.

These are the only place where the audio and text defaults live (LJSpeech: 22.05 kHz, 80 mel bands).
"""
from common.cli import non_negative_float, positive_float, positive_int


def add_audio_args(parser):
    group = parser.add_argument_group('audio parameters')
    group.add_argument('--max-wav-value', type=positive_float, default=32768.0,
                       help='Full-scale value of integer audio')
    group.add_argument('--sampling-rate', type=positive_int, default=22050, help='Sampling rate in Hz')
    group.add_argument('--filter-length', type=positive_int, default=1024, help='STFT size (n_fft)')
    group.add_argument('--hop-length', type=positive_int, default=256, help='STFT hop in samples')
    group.add_argument('--win-length', type=positive_int, default=1024, help='STFT window length in samples')
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
