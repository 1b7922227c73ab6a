"""Objective quality of a trained model on held-out recordings (mel L1 and mel-cepstral distortion, common/quality.py).

What is compared is the model's own evaluation (ModelSpec.evaluation_pairs): a mel generator synthesizes each
sentence with the recording's own durations (so the frames line up) and is compared with the recording's mel; a
vocoder vocodes each recording's mel (sigma 0) and the mel of that audio is compared with the recording's.
`--untrained` scores the same architecture freshly initialised, the "before training" figure.

  python evaluate.py -m NAME --checkpoint C -d DATA --filelist F [model data flags, e.g. --pitch-mean-std-file S]
"""
import json
import sys

import torch
from torch.utils.data import DataLoader

import models
from common import model_loading
from common.checkpoint import CheckpointError, load_checkpoint
from common.cli import ArgumentParser, command
from common.data_args import add_audio_args, add_text_args
from common.model_spec import GENERATOR
from common.precision import Precision
from common.quality import mel_cepstral_distortion, mel_l1
from common.training import validate


def evaluable_models():
    return [name for name, spec in models.MODELS.items() if spec.evaluation_pairs is not None]


def build_parser(model_name=None):
    parser = ArgumentParser(prog='evaluate.py', description=__doc__.split('\n')[0])
    parser.add_argument('-m', '--model-name', required=True, choices=evaluable_models())
    parser.add_argument('--checkpoint', required=True, help='Checkpoint of the model to score')
    parser.add_argument('-d', '--dataset-path', default='./', help='Folder the filelist paths are relative to')
    parser.add_argument('--filelist', required=True,
                        help='Held-out clips, in the filelist format the model trains on')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='Let the checkpoint unpickle Python objects (pickled checkpoints of the original NVIDIA '
                             'repositories); trusted files only')
    parser.add_argument('--untrained', action='store_true', help='Score a freshly initialised model of this config')
    parser.add_argument('--seed', type=int, default=1234, help='Seed of the fresh initialisation')
    parser.add_argument('--label', default='', help='Name of this measurement in the output')
    parser.add_argument('--validation-loss', action='store_true',
                        help="Also report the model's training loss on the filelist as train.py validates it "
                             '(WaveGlow: the negative log-likelihood per sample; the filelist in its training format)')
    parser.set_defaults(load_mel_from_disk=False)  # the filelist holds recordings (Tacotron 2's data reads it)
    add_audio_args(parser)
    add_text_args(parser)
    if model_name in evaluable_models():
        models.model_spec(model_name).add_model_args(parser)  # its data flags; the sizes come from the checkpoint
    return parser


def parse_args(argv):
    first = ArgumentParser(prog='evaluate.py', add_help=False)
    first.add_argument('-m', '--model-name')
    known, _ = first.parse_known_args(argv)
    return build_parser(known.model_name).parse_args(argv)


def load_scored_model(spec, args):
    """The scored model, ready for synthesis."""
    return model_loading.ready_for_inference(spec, scored_model_as_trained(spec, args), 'cpu')


def scored_model_as_trained(spec, args):
    """The checkpoint's model, or with --untrained a fresh one of the same config (read the same way), in the form
    training gives it (before its preparation for inference)."""
    checkpoint = load_checkpoint(args.checkpoint, allow_pickle=args.allow_pickle)
    model, config = model_loading.model_from_checkpoint(spec, checkpoint, args.checkpoint, models.MODELS.values())
    if model.n_mel_channels != args.n_mel_channels:  # the recordings' mels are made with the audio flags
        role = 'makes' if spec.role == GENERATOR else 'takes'
        raise CheckpointError(f'--n-mel-channels {args.n_mel_channels}: {args.checkpoint} {role} '
                              f'{model.n_mel_channels}-band mels')
    if args.untrained:
        torch.manual_seed(args.seed)
        model = model_loading.new_model(spec, config, args.checkpoint)
    return model


def score(pairs):
    l1_sum, mcd_sum, frames = 0.0, 0.0, 0
    for predicted, target in pairs:
        n = min(predicted.size(1), target.size(1))
        lengths = torch.tensor([n])
        l1_sum += mel_l1(predicted[None, :, :n], target[None, :, :n], lengths) * n
        mcd_sum += mel_cepstral_distortion(predicted[None, :, :n], target[None, :, :n], lengths) * n
        frames += n
    return {'mel_l1': l1_sum / frames, 'mcd_db': mcd_sum / frames, 'frames': frames}


def evaluate(args):
    """{'model', 'label', 'mel_l1', 'mcd_db', 'frames'} of the scored model on the filelist."""
    spec = models.model_spec(args.model_name)
    model = load_scored_model(spec, args)
    with torch.no_grad():
        result = score(spec.evaluation_pairs(model, args))
    if args.validation_loss:
        result['validation_loss'] = validation_loss(spec, args)
    return {'model': args.model_name, 'label': args.label or ('untrained' if args.untrained else 'trained'), **result}


def validation_loss(spec, args):
    """The training loss of the scored model (as trained: weight norm kept) on the filelist's clips, as train.py's
    validation computes it; the random draws (WaveGlow's windows) from --seed."""
    model = scored_model_as_trained(spec, args)
    torch.manual_seed(args.seed)
    loader = DataLoader(spec.get_dataset(args, args.filelist), batch_size=1, collate_fn=spec.get_collate_fn(args))
    loss, _, _ = validate(model, loader, spec.build_loss(args), spec.batch_to_device, torch.device('cpu'),
                          Precision('cpu'))
    return float(loss)


@command('evaluate.py')
def main(argv=None):
    print(json.dumps(evaluate(parse_args(argv))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
