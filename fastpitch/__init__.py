"""FastPitch: parallel text to mel spectrogram. 1.0 trains from external durations and per-symbol pitch; 1.1
(--fastpitch-version 1.1) learns its alignment, with energy and speaker conditioning. One spec serves both: a
checkpoint's config (or, without one, its tensors) says which version it holds."""
import torch

from common.model_spec import GENERATOR, ModelSpec

from .arg_parser import add_inference_args, add_model_args, config_version, model_config
from .attention_prior import interpolated_prior
from .benchmark import CASES as BENCHMARK_CASES
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .export import export_plan
from .loss_function import FastPitch11Loss, FastPitch11TrainingLoss, FastPitchLoss
from .model import FastPitch
from .model_v11 import FastPitch11
from .pitch import read_pitch_stats
from .synthesis import (TEACHER_FORCING, FastPitchGenerator, evaluation_pairs, model_version,
                        onnx_runtime_options, require_trained_aligner)
from .upstream_hub import HUB

# The aligner of 1.1 is used in training only: NVIDIA's inference files may leave it out.
ALIGNER_PREFIX = 'attention.'


def build_model(**config):
    """FastPitch(**config), or FastPitch11(**config) for a 1.1 config."""
    return FastPitch11(**config) if config_version(config) == '1.1' else FastPitch(**config)


def build_loss(args):
    if args.fastpitch_version == '1.0':
        return FastPitchLoss(dur_predictor_loss_scale=args.dur_predictor_loss_scale,
                             pitch_predictor_loss_scale=args.pitch_predictor_loss_scale)
    criterion = FastPitch11Loss(args.dur_predictor_loss_scale, args.pitch_predictor_loss_scale, args.attn_loss_scale,
                                args.energy_predictor_loss_scale)
    return FastPitch11TrainingLoss(criterion, args.kl_loss_start_epoch, args.kl_loss_warmup_epochs,
                                   args.kl_loss_weight)


def start_epoch(loss_function, epoch):
    """1.1 ramps its binarization loss in by epoch."""
    if isinstance(loss_function, FastPitch11TrainingLoss):
        loss_function.start_epoch(epoch)


def validation_images(y_pred, y):
    """2-D arrays (drawn with row 0 at the bottom) of the first validation item, for TensorBoard; 1.1 adds its
    learned alignment (symbols up, frames across)."""
    images = {'mel_predicted': y_pred[0][0].t(), 'mel_target': y[0][0]}
    if len(y_pred) == 12:
        images['alignment'] = y_pred[8][0, 0].t()
    return images


def prepare_for_training(model, args):
    """Check the model's version against the data's, and keep the training set's pitch statistics (Hz) in the
    model, so that inference can speak in Hz."""
    version = model_version(model)
    if version != args.fastpitch_version:
        raise ValueError(f'the model to train is FastPitch {version} (its checkpoint\'s config) but '
                         f'--fastpitch-version is {args.fastpitch_version}: give --fastpitch-version {version} and '
                         f'FastPitch {version} filelists')
    if args.pitch_mean_std_file:
        mean, std = read_pitch_stats(args.pitch_mean_std_file)
        model.pitch_mean.fill_(mean)
        model.pitch_std.fill_(std)


def check_training_data(model, dataset):
    """A filelist's speaker ids must name speakers the model has, and a model of several speakers needs them: found
    here, with the line, rather than as an error in some later step (or, for a one-speaker model, never: the ids
    would be ignored)."""
    n_speakers = model.n_speakers if isinstance(model, FastPitch11) else 1
    for entry in dataset.entries:
        if entry.speaker is None and n_speakers > 1:  # the column is on every line or on none
            raise entry.error(f'no speaker id, but the model has {n_speakers} speakers: give every line a '
                              'speaker column (path|...|text|speaker)')
        if entry.speaker is not None and entry.speaker >= n_speakers:
            if n_speakers > 1:
                hint = f'the model has {n_speakers} speakers, ids 0 to {n_speakers - 1} (--n-speakers)'
            elif isinstance(model, FastPitch11):
                hint = 'the model has one speaker: a new model takes --n-speakers N for N speakers'
            else:
                hint = 'FastPitch 1.0 has no speaker embedding: FastPitch 1.1 takes --n-speakers N for N speakers'
            raise entry.error(f'speaker id {entry.speaker} is unknown: {hint}')


def config_from_state_dict(state_dict):
    """The config of a file that stores none: 1.1 when it has tensors only 1.1 has (the aligner, energy,
    speakers), sized from them, else 1.0; other sizes are the reference defaults. (A 1.1 file without any of
    those reads as 1.0: the two are then the same network but for the rounding of durations.)"""
    version_11_keys = [key for key in state_dict if key.startswith((ALIGNER_PREFIX, 'energy_', 'speaker_emb.'))]
    if not version_11_keys:
        return SPEC.default_config()
    flags = ['--fastpitch-version', '1.1', '--n-symbols', str(state_dict['encoder.word_emb.weight'].size(0))]
    if 'energy_emb.weight' in state_dict:
        flags.append('--energy-conditioning')
    if 'speaker_emb.weight' in state_dict:
        flags += ['--n-speakers', str(state_dict['speaker_emb.weight'].size(0))]
    return SPEC.default_config(flags)


def load_weights(model, state_dict):
    """Strict, except that a 1.1 file may lack the aligner (it is trained anew if the model trains on)."""
    if isinstance(model, FastPitch11) and not any(key.startswith(ALIGNER_PREFIX) for key in state_dict):
        missing, unexpected = model.load_state_dict(state_dict, strict=False)
        if unexpected or any(not key.startswith(ALIGNER_PREFIX) for key in missing):
            model.load_state_dict(state_dict)  # raises, listing the keys
        model.aligner_loaded = False
        return
    model.load_state_dict(state_dict)


def teacher_forced_alignment(model, text, text_lengths, mel, mel_lengths):
    """1.1's hard alignments of recorded clips (B, frames, symbols), under the prior training uses: durations for
    FastPitch 1.0 without a Tacotron 2 (prepare_dataset.py --durations-from fastpitch)."""
    if not isinstance(model, FastPitch11):
        raise ValueError('a FastPitch 1.0 model has no aligner: durations come from a FastPitch 1.1 checkpoint')
    require_trained_aligner(model)
    prior = torch.zeros(mel.size(0), mel.size(2), text.size(1))
    for item, (frames, symbols) in enumerate(zip(mel_lengths.tolist(), text_lengths.tolist())):
        prior[item, :frames, :symbols] = interpolated_prior(frames, symbols)
    return model.align(text, text_lengths, mel, mel_lengths, prior.to(mel.device))


SPEC = ModelSpec(
    name='FastPitch', model_class=build_model, role=GENERATOR, state_dict_marker='encoder.word_emb.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=get_dataset, get_collate_fn=get_collate_fn, batch_to_device=batch_to_device, item_unit='mel frames',
    build_loss=build_loss, start_epoch=start_epoch, prepare_for_training=prepare_for_training,
    check_training_data=check_training_data, validation_images=validation_images,
    config_from_state_dict=config_from_state_dict, load_weights=load_weights,
    add_inference_args=add_inference_args, make_synthesizer=FastPitchGenerator,
    # the length regulator between them is Python control flow: it stays eager
    scriptable_parts=('encoder', 'decoder', 'duration_predictor', 'pitch_predictor'),
    evaluation_pairs=evaluation_pairs,
    teacher_forced_alignment=teacher_forced_alignment,
    teacher_forcing=TEACHER_FORCING,
    benchmark_cases=BENCHMARK_CASES,
    export_plan=export_plan,
    onnx_runtime_options=onnx_runtime_options,
    hub=HUB,
)
