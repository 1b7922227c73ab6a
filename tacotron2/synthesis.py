"""Tacotron 2 as inference.py's mel generator: autoregressive decoding, with the items that ran into
max_decoder_steps reported per input line; and its teacher-forced mels for prepare_dataset.py --teacher-mels-from."""
import argparse
import contextlib
import warnings

from common.data_args import DEFAULT_TEXT_CLEANERS
from common.model_spec import TeacherForcing
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


def onnx_runtime_options(args):
    """The synthesis flags as common/onnx_runtime.py's options for an exported Tacotron 2 (tacotron2/export.py)."""
    return {'text_cleaners': args.text_cleaners, 'max_decoder_steps': args.max_decoder_steps}


@contextlib.contextmanager
def prenet_dropout_off(model):
    prenet = model.decoder.prenet
    p_dropout, prenet.p_dropout = prenet.p_dropout, 0.0
    try:
        yield
    finally:
        prenet.p_dropout = p_dropout


def teacher_forced_mels(model, x):
    """The postnet's mels of a teacher-forced pass over a training batch (x as batch_to_device gives it), each item
    cut to its recorded frames. The prenet's dropout, which synthesis keeps on, is off: a clip's mels are then the
    checkpoint's alone, the same in every run (as teacher_forced_alignment's attention)."""
    with prenet_dropout_off(model):
        mel_out_postnet = model(x)[1]
    output_lengths = x[4]
    return [mel[:, :frames] for mel, frames in zip(mel_out_postnet, output_lengths.tolist())]


def teacher_forcing_filelist(model):
    return 'mel_text'


def teacher_forcing_data_args(model, args):
    """The saved mels of its mel_text lines (mels/ID.pt|text), not mels computed from WAVs."""
    return argparse.Namespace(**{**vars(args), 'load_mel_from_disk': True})


TEACHER_FORCING = TeacherForcing(training_filelist=teacher_forcing_filelist, data_args=teacher_forcing_data_args,
                                 mels=teacher_forced_mels)
