"""FastPitch (1.0 or 1.1) as inference.py's mel generator, with the pace, pitch and speaker controls and the
text front end of its version, as evaluate.py scores it, and its teacher-forced mels for prepare_dataset.py
--teacher-mels-from."""
import argparse

import torch

from common.model_spec import TeacherForcing
from common.text.processing import text_processing

from .data_function import get_dataset
from .model_v11 import FastPitch11
from .pitch import normalize_pitch

# --text-cleaners when none are given: the ones each version's recipe trains with
DEFAULT_CLEANERS = {'1.0': ['english_cleaners'], '1.1': ['english_cleaners_v2']}


def model_version(model):
    return '1.1' if isinstance(model, FastPitch11) else '1.0'


def infer(model, text, lengths, **controls):
    """(mel (B, n_mel, T), mel lengths, durations) of either version: 1.0's infer takes the text lengths, 1.1's
    (as its reference) reads them from the padding and returns pitch and energy too."""
    if isinstance(model, FastPitch11):
        mel, mel_lengths, durations, _, _ = model.infer(text, **controls)
    else:
        mel, mel_lengths, durations, _ = model.infer(text, lengths, **controls)
    return mel, mel_lengths, durations


# the pitch controls that leave the prediction as it is
NEUTRAL_PITCH_CONTROLS = {'flatten': 0.0, 'invert': 0.0, 'amplify': 1.0, 'shift_hz': 0.0}


def controlled_pitch(pitch, std, flatten, invert, amplify, shift_hz):
    """Normalised pitch after the controls, in the order flatten, invert, amplify, shift. Pitch is normalised
    (pitch_hz = pitch * std + mean), so amplifying scales the deviation from the mean and a shift in Hz is divided by
    std. The controls are numbers, or (B, 1) tensors where an exported graph takes one per item: flatten and invert
    are 0 or 1 there, and each step is exact at its neutral value."""
    pitch = pitch * (1 - flatten)
    pitch = pitch * (1 - 2 * invert)
    return pitch * amplify + shift_hz / std


def pitch_controls(args):
    """controlled_pitch's keywords from the --pitch-transform-* flags."""
    return {'flatten': float(args.pitch_transform_flatten), 'invert': float(args.pitch_transform_invert),
            'amplify': args.pitch_transform_amplify, 'shift_hz': args.pitch_transform_shift}


def build_pitch_transform(args):
    """FastPitch.infer's pitch_transform from the flags; None where they leave the pitch as predicted."""
    controls = pitch_controls(args)
    if controls == NEUTRAL_PITCH_CONTROLS:
        return None
    return lambda pitch, lengths, mean, std: controlled_pitch(pitch, std, **controls)


def onnx_runtime_options(args):
    """The synthesis flags as common/onnx_runtime.py's options for an exported FastPitch (fastpitch/export.py)."""
    return {'text_cleaners': args.text_cleaners, 'p_arpabet': args.p_arpabet, 'cmudict': args.cmudict_path,
            'heteronyms': args.heteronyms_path, 'pace': args.pace, 'speaker': args.speaker,
            **{f'pitch_{name}': value for name, value in pitch_controls(args).items()}}


class FastPitchGenerator:
    overrun_message = None  # every item gets all the frames its durations ask for
    overrun_event = None

    def __init__(self, model, args, device=None):
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        version = model_version(model)
        self.controls = {'pace': args.pace, 'pitch_transform': build_pitch_transform(args)}
        if version == '1.1':
            self.controls['speaker'] = args.speaker
        elif args.speaker != 0:
            raise ValueError(f'--speaker {args.speaker}: FastPitch 1.0 has one speaker')
        self.text_processing = text_processing(args.text_cleaners or DEFAULT_CLEANERS[version], args.p_arpabet,
                                               args.cmudict_path, args.heteronyms_path, front_end=version)
        self.description = f'FastPitch {version} (pace {args.pace})'

    def __call__(self, text, lengths):
        mel, mel_lengths, _ = infer(self.model, text, lengths, **self.controls)
        return mel, mel_lengths, None


def evaluation_pairs(model, args):
    """(synthesized mel, recorded mel) per clip of the --filelist, the durations taken from the recording so that
    the frames line up (pitch is predicted): 1.0 reads them from its mels|durations|pitch_char|text lines, 1.1 from
    its own aligner on mels|pitch|text lines."""
    args.fastpitch_version = model_version(model)
    require_trained_aligner(model)
    for item in get_dataset(args, args.filelist):
        text, mel = item[0], item[1]
        if args.fastpitch_version == '1.0':
            durations = item[2]
        else:  # 1.1's own aligner, the clip as a batch of one
            text_lengths, mel_lengths = torch.tensor([text.numel()]), torch.tensor([mel.size(1)])
            durations = model.align(text[None], text_lengths, mel[None], mel_lengths, item[4][None])[0].sum(0)
        predicted, _, _ = infer(model, text[None], torch.tensor([text.numel()]), dur_tgt=durations[None])
        yield predicted[0], mel


# per version: the derived filelist it trains on (prepare_dataset.py), and where the pitch is among its training
# inputs (FastPitch.forward, FastPitch11.forward)
TRAINING_FILELIST = {'1.0': 'mel_dur_pitch_text', '1.1': 'mel_pitch_text'}
PITCH_INPUT = {'1.0': 6, '1.1': 4}


def teacher_forcing_filelist(model):
    return TRAINING_FILELIST[model_version(model)]


def teacher_forcing_data_args(model, args):
    """The model's version's data, its pitch read in Hz: the --pitch-mean-std-file it was trained with names a file
    of the training run, so teacher_forced_mels normalises with the statistics the model keeps instead."""
    return argparse.Namespace(**{**vars(args), 'fastpitch_version': model_version(model), 'pitch_mean_std_file': None})


def require_trained_aligner(model):
    """Durations from a 1.1 model's aligner need one that was trained: files without it load for synthesis only."""
    if isinstance(model, FastPitch11) and not model.aligner_loaded:
        raise ValueError('the FastPitch 1.1 checkpoint has no aligner (attention.* weights: an inference-only file); '
                         'durations and teacher-forced mels need its training checkpoint')


def teacher_forced_mels(model, x):
    """The mels of a teacher-forced pass over a training batch (x as batch_to_device gives it), each item cut to its
    recorded frames: decoded from the recorded pitch and the durations of the batch (1.0) or of the model's own
    aligner (1.1), so that the frames line up with the audio."""
    require_trained_aligner(model)
    x = list(x)
    pitch = PITCH_INPUT[model_version(model)]
    if float(model.pitch_std) > 0:  # trained on normalised pitch
        x[pitch] = normalize_pitch(x[pitch], model.pitch_mean, model.pitch_std)
    mel_out = model(x)[0]
    output_lengths = x[3]
    return [mel[:frames].t() for mel, frames in zip(mel_out, output_lengths.tolist())]


TEACHER_FORCING = TeacherForcing(training_filelist=teacher_forcing_filelist, data_args=teacher_forcing_data_args,
                                 mels=teacher_forced_mels)
