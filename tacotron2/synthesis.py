"""Tacotron 2 as inference.py's mel generator: autoregressive decoding, with the items that ran into
max_decoder_steps reported per input line."""
import warnings

from common.data_args import DEFAULT_TEXT_CLEANERS
from common.text.processing import text_processing


class Tacotron2Generator:
    def __init__(self, model, args, device=None):
        if args.max_decoder_steps is not None:
            model.decoder.max_decoder_steps = args.max_decoder_steps
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        self.text_processing = text_processing(args.text_cleaners or DEFAULT_TEXT_CLEANERS, front_end='1.0')
        steps = model.decoder.max_decoder_steps
        self.description = f'Tacotron 2 (at most {steps} decoder steps)'
        self.overrun_message = (f'Tacotron 2 reached max_decoder_steps ({steps}) before its stop gate fired; the audio '
                                'of this line may be cut short (raise --max-decoder-steps)')
        self.overrun_event = {'event': 'max_decoder_steps_reached', 'max_decoder_steps': steps}

    def __call__(self, text, lengths):
        with warnings.catch_warnings():  # inference.py reports overruns per input line instead
            warnings.filterwarnings('ignore', message='Tacotron2: .*max_decoder_steps')
            mel, mel_lengths, _ = self.model.infer(text, lengths)
        return mel, mel_lengths, self.model.reached_max_decoder_steps
