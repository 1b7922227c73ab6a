"""NVIDIA/waveglow's `train.py -c config.json` (and the Ascend port's overrides of its train_config and
data_config keys), translated into our train.py's flags so that our one training loop runs it:

    python train.py -c config.json [-r RANK -g GROUP] [--output_directory=DIR --fp16_run=true ...]

CONFIG_SCHEMA is that repository's config.json: its sections, keys, types and defaults. A key the schema lacks, or
a value of the wrong type, is an error naming it; a missing key takes its default. As there: a constant Adam
learning rate, no weight decay or gradient clipping, `waveglow_<iteration>` checkpoints every
iters_per_checkpoint iterations counted from 0, TensorBoard in <output_directory>/logs with with_tensorboard,
checkpoint_path resumes. data_config.training_files lists one audio path per line. The world size is the number of
processes launched (distributed.py, or our multiproc.py), not the number of GPUs; dist_config is read, the backend
follows the device.

What ours adds: the run validates once, after its last epoch, on the training files (WaveGlow has no validation
set there), and saves a last checkpoint then.
"""
import json
from pathlib import Path

import torch

from common.cli import ArgumentParser
from common.fileio import read_json, write_text_atomic
from common.upstream_launch import join_by_rank, resume_flags

CHECKPOINT_NAME = 'waveglow_{iteration}'
FILELIST_NAME = 'upstream_training_files.txt'   # the audio list in our filelist format, in the output directory

CONFIG_SCHEMA = {
    'train_config': {'fp16_run': True, 'output_directory': 'checkpoints', 'epochs': 100000, 'learning_rate': 1e-4,
                     'sigma': 1.0, 'iters_per_checkpoint': 2000, 'batch_size': 12, 'seed': 1234,
                     'checkpoint_path': '', 'with_tensorboard': False},
    'data_config': {'training_files': 'train_files.txt', 'segment_length': 16000, 'sampling_rate': 22050,
                    'filter_length': 1024, 'hop_length': 256, 'win_length': 1024, 'mel_fmin': 0.0,
                    'mel_fmax': 8000.0},
    'dist_config': {'dist_backend': 'nccl', 'dist_url': 'tcp://localhost:54321'},
    'waveglow_config': {'n_mel_channels': 80, 'n_flows': 12, 'n_group': 8, 'n_early_every': 4, 'n_early_size': 2,
                        'WN_config': {'n_layers': 8, 'n_channels': 256, 'kernel_size': 3}},
}
# config keys -> our flags; the audio keys of data_config are our flags of the same name
_FLAG_OF = {'epochs': '--epochs', 'learning_rate': '-lr', 'sigma': '--sigma', 'batch_size': '-bs', 'seed': '--seed',
            'iters_per_checkpoint': '--iters-per-checkpoint', 'segment_length': '--segment-length',
            'n_mel_channels': '--n-mel-channels', 'n_flows': '--flows', 'n_group': '--groups',
            'n_early_every': '--early-every', 'n_early_size': '--early-size', 'n_layers': '--wn-layers',
            'n_channels': '--wn-channels', 'kernel_size': '--wn-kernel-size'}
_AUDIO_KEYS = ('sampling_rate', 'filter_length', 'hop_length', 'win_length', 'mel_fmin', 'mel_fmax')
_OVERRIDABLE = ('train_config', 'data_config')  # sections whose keys the command line may set (--key=value)


class ConfigError(ValueError):
    """A config.json that does not fit NVIDIA/waveglow's schema; the message names the file and the key."""


def recognises(argv):
    given = [token.split('=')[0] for token in argv]
    return '--config' in given or any(flag == '-c' and value.endswith('.json') for flag, value in zip(argv, argv[1:]))


def build_parser():
    parser = ArgumentParser(prog='train.py (NVIDIA/waveglow command line)')
    parser.add_argument('-c', '--config', required=True, help='JSON file of the configuration')
    parser.add_argument('-r', '--rank', type=int, default=0, help='rank of this process')
    parser.add_argument('-g', '--group_name', default='', help='process group name (not used)')
    parser.add_argument('--n_gpus', '--num_gpus', type=int, default=None,
                        help='number of processes started by hand (default: the visible GPUs with -g, else 1)')
    parser.add_argument('--allow-pickle', action='store_true', help='let checkpoint_path unpickle Python objects')
    for section in _OVERRIDABLE:
        for key, default in CONFIG_SCHEMA[section].items():
            parser.add_argument(f'--{key}', type=_value_reader(key, default), help=f'{section}.{key}')
    return parser


def _value_reader(key, default):
    def read(text):
        if isinstance(default, bool):
            if text.lower() not in ('true', 'false', '1', '0'):
                raise ValueError(text)
            return text.lower() in ('true', '1')
        return type(default)(text)
    read.__name__ = type(default).__name__
    return read


def read_config(path):
    """The config with every section and key, defaults filled in; errors name the file and the key."""
    return _checked(read_json(path, path, ConfigError), CONFIG_SCHEMA, str(path), '')


def _checked(given, schema, path, where):
    if not isinstance(given, dict):
        raise ConfigError(f'{path}: {where.rstrip(".") or "the file"} must be a JSON object')
    unknown = sorted(set(given) - set(schema))
    if unknown:
        raise ConfigError(f'{path}: unknown key {where}{unknown[0]} (known here: {", ".join(schema)})')
    checked = {}
    for key, default in schema.items():
        value = given.get(key, default)
        if isinstance(default, dict):
            checked[key] = _checked(value, default, path, f'{where}{key}.')
        elif not _fits(value, default):
            raise ConfigError(f'{path}: {where}{key} is {json.dumps(value)}, expected '
                              f'{"a number" if isinstance(default, float) else type(default).__name__}')
        else:
            checked[key] = value
    return checked


def _fits(value, default):
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def translate(argv):
    """Our train.py arguments for NVIDIA/waveglow's command line `argv`, or None if it is not one."""
    if not recognises(argv):
        return None
    args = build_parser().parse_args(argv)
    config = read_config(args.config)
    for section in _OVERRIDABLE:
        config[section].update({key: getattr(args, key) for key in config[section]
                                if getattr(args, key) is not None})
    train, data = config['train_config'], config['data_config']
    world_size = args.n_gpus or (torch.cuda.device_count() if args.group_name else 1)  # as NVIDIA's train.py
    join_by_rank(args.rank, world_size, config['dist_config']['dist_url'])
    output = Path(train['output_directory'])
    filelist = audio_filelist(data['training_files'], output)
    values = {**train, **data, **config['waveglow_config'], **config['waveglow_config']['WN_config']}
    flags = ['-m', 'WaveGlow', '-o', str(output), '--optimizer', 'adam', '--workers', '1',
             '--weight-decay', '0', '--grad-clip-thresh', '1e30',  # neither there
             '--checkpoint-name', CHECKPOINT_NAME, '--training-files', str(filelist), '--validation-files',
             str(filelist), '--epochs-per-checkpoint', str(train['epochs']),
             '--validation-interval', str(train['epochs'])]
    flags += [token for key, flag in _FLAG_OF.items() for token in (flag, str(values[key]))]
    flags += [token for key in _AUDIO_KEYS for token in (f'--{key.replace("_", "-")}', str(data[key]))]
    flags += ['--amp'] if train['fp16_run'] else []
    flags += ['--tensorboard', str(output / 'logs')] if train['with_tensorboard'] else ['--no-tensorboard']
    if train['checkpoint_path']:
        flags += resume_flags(train['checkpoint_path'], args.allow_pickle)
    return flags


def audio_filelist(training_files, output):
    """NVIDIA/waveglow lists one audio path per line; our filelists add a transcript column, which WaveGlow's data
    does not read. The converted list goes into the output directory (paths as given: relative to the working
    directory, as there)."""
    source = Path(training_files)
    if not source.is_file():
        raise ConfigError(f'data_config.training_files {source}: no such file')
    paths = [line.strip() for line in source.read_text().splitlines() if line.strip()]
    if not paths:
        raise ConfigError(f'data_config.training_files {source}: lists no audio files')
    output.mkdir(parents=True, exist_ok=True)
    filelist = output / FILELIST_NAME
    write_text_atomic(filelist, ''.join(f'{path}|(audio only)\n' for path in paths))
    return filelist
