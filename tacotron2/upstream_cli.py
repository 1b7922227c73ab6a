"""NVIDIA/tacotron2's train.py command line (and DeepSparkHub's --target_val_loss), translated into our train.py's
flags so that our one training loop runs it with that repository's semantics:

    python train.py --output_directory=outdir --log_directory=logdir [-c CKPT [--warm_start]] \
        [--hparams=name=value,...] [--target_val_loss=0.5] [--n_gpus=N --rank=R --group_name=G]

Its hparams and their defaults (HPARAMS) replace our flag defaults: constant Adam learning rate, batch 64 per process,
mask_padding on, at most 1000 decoder steps; validation and a `checkpoint_<iteration>` file every
iters_per_checkpoint iterations counted from 0; TensorBoard in <output_directory>/<log_directory>; -c resumes
(exactly, from a file of ours) and -c --warm_start takes the weights but ignore_layers with a fresh optimizer.
--target_val_loss (default 5.0, as DeepSparkHub's port) stops after a validation at or below it.

Where ours differs, by design: the process group's backend follows the device (dist_backend is read but NCCL/gloo
is chosen as everywhere here); processes launched by `python -m multiproc` always train together, as if
distributed_run=True; load_mel_from_disk reads our `.pt` mels (prepare_dataset.py), not `.npy` files.
"""
from common.cli import ArgumentParser
from common.text.symbols import symbols
from common.upstream_launch import join_by_rank, resume_flags

from .upstream_hparams import HParamsError, parse_hparams

CHECKPOINT_NAME = 'checkpoint_{iteration}'
DEFAULT_TARGET_VAL_LOSS = 5.0  # DeepSparkHub's port

HPARAMS = {
    # experiment
    'epochs': 500, 'iters_per_checkpoint': 1000, 'seed': 1234, 'dynamic_loss_scaling': True, 'fp16_run': False,
    'distributed_run': False, 'dist_backend': 'nccl', 'dist_url': 'tcp://localhost:54321', 'cudnn_enabled': True,
    'cudnn_benchmark': False, 'ignore_layers': ['embedding.weight'],
    # data
    'load_mel_from_disk': False, 'training_files': 'filelists/ljs_audio_text_train_filelist.txt',
    'validation_files': 'filelists/ljs_audio_text_val_filelist.txt', 'text_cleaners': ['english_cleaners'],
    # audio
    'max_wav_value': 32768.0, 'sampling_rate': 22050, 'filter_length': 1024, 'hop_length': 256, 'win_length': 1024,
    'n_mel_channels': 80, 'mel_fmin': 0.0, 'mel_fmax': 8000.0,
    # model
    'n_symbols': len(symbols), 'symbols_embedding_dim': 512, 'encoder_kernel_size': 5, 'encoder_n_convolutions': 3,
    'encoder_embedding_dim': 512, 'n_frames_per_step': 1, 'decoder_rnn_dim': 1024, 'prenet_dim': 256,
    'max_decoder_steps': 1000, 'gate_threshold': 0.5, 'p_attention_dropout': 0.1, 'p_decoder_dropout': 0.1,
    'attention_rnn_dim': 1024, 'attention_dim': 128, 'attention_location_n_filters': 32,
    'attention_location_kernel_size': 31, 'postnet_embedding_dim': 512, 'postnet_kernel_size': 5,
    'postnet_n_convolutions': 5,
    # optimization
    'use_saved_learning_rate': False, 'learning_rate': 1e-3, 'weight_decay': 1e-6, 'grad_clip_thresh': 1.0,
    'batch_size': 64, 'mask_padding': True,
}

# hparams that are our flags of the same name (underscores become hyphens)
_SAME_NAME = (
    'epochs', 'iters_per_checkpoint', 'seed', 'training_files', 'validation_files', 'max_wav_value', 'sampling_rate',
    'filter_length', 'hop_length', 'win_length', 'n_mel_channels', 'mel_fmin', 'mel_fmax', 'n_symbols',
    'symbols_embedding_dim', 'encoder_kernel_size', 'encoder_n_convolutions', 'encoder_embedding_dim',
    'n_frames_per_step', 'decoder_rnn_dim', 'prenet_dim', 'max_decoder_steps', 'gate_threshold',
    'p_attention_dropout', 'p_decoder_dropout', 'attention_rnn_dim', 'attention_dim', 'attention_location_n_filters',
    'attention_location_kernel_size', 'postnet_embedding_dim', 'postnet_kernel_size', 'postnet_n_convolutions',
    'learning_rate', 'weight_decay', 'grad_clip_thresh', 'batch_size',
)
_FLAGS = ('--output_directory', '--log_directory', '--checkpoint_path', '--warm_start', '--n_gpus', '--rank',
          '--group_name', '--hparams', '--target_val_loss')


def recognises(argv):
    """NVIDIA/tacotron2's flags, and no JSON `-c` (that is NVIDIA/waveglow's config)."""
    given = [token.split('=')[0] for token in argv]
    waveglow_config = any(flag in ('-c', '--config') and value.endswith('.json')
                          for flag, value in zip(argv, argv[1:]))
    return any(flag in given for flag in _FLAGS) and not waveglow_config and '--config' not in given


def build_parser():
    parser = ArgumentParser(prog='train.py (NVIDIA/tacotron2 command line)')
    parser.add_argument('-o', '--output_directory', required=True, help='directory to save checkpoints')
    parser.add_argument('-l', '--log_directory', help='TensorBoard directory, inside the output directory')
    parser.add_argument('-c', '--checkpoint_path', help='checkpoint to resume from (or to warm-start from)')
    parser.add_argument('--warm_start', action='store_true', help='take the weights of -c but ignore_layers')
    parser.add_argument('--n_gpus', type=int, default=1, help='number of processes')
    parser.add_argument('--rank', type=int, default=0, help='rank of this process')
    parser.add_argument('--group_name', default='group_name', help='process group name (not used)')
    parser.add_argument('--hparams', default='', help='comma-separated name=value overrides')
    parser.add_argument('--target_val_loss', type=float, default=DEFAULT_TARGET_VAL_LOSS,
                        help='stop after a validation loss at or below this')
    parser.add_argument('--allow-pickle', action='store_true', help='let -c unpickle Python objects (ours)')
    return parser


def translate(argv):
    """Our train.py arguments for NVIDIA/tacotron2's command line `argv`, or None if it is not one."""
    if not recognises(argv):
        return None
    args = build_parser().parse_args(argv)
    hparams = {**HPARAMS, **parse_hparams(args.hparams, HPARAMS)}
    if hparams['use_saved_learning_rate']:
        raise HParamsError('--hparams: use_saved_learning_rate=True is not supported here (the learning rate is '
                           'constant: set learning_rate= instead)')
    if hparams['distributed_run']:
        join_by_rank(args.rank, args.n_gpus, hparams['dist_url'])
    flags = ['-m', 'Tacotron2', '-o', args.output_directory, '--optimizer', 'adam', '--workers', '1',
             '--checkpoint-name', CHECKPOINT_NAME, '--validate-at-checkpoints',
             '--target-val-loss', str(args.target_val_loss),
             # saves and validations by iteration only, plus both after the last epoch
             '--epochs-per-checkpoint', str(hparams['epochs']), '--validation-interval', str(hparams['epochs'])]
    for name in _SAME_NAME:
        flags += [f'--{name.replace("_", "-")}', str(hparams[name])]
    flags += ['--text-cleaners', *hparams['text_cleaners'], '--mask-padding', str(hparams['mask_padding'])]
    flags += ['--cudnn-enabled' if hparams['cudnn_enabled'] else '--no-cudnn-enabled',
              '--cudnn-benchmark' if hparams['cudnn_benchmark'] else '--no-cudnn-benchmark']
    flags += ['--amp'] if hparams['fp16_run'] else []
    flags += ['--load-mel-from-disk'] if hparams['load_mel_from_disk'] else []
    flags += (['--tensorboard', f'{args.output_directory}/{args.log_directory}'] if args.log_directory
              else ['--no-tensorboard'])
    if args.checkpoint_path and args.warm_start:
        flags += ['--checkpoint-path', args.checkpoint_path, '--warm-start-skip', *hparams['ignore_layers']]
        flags += ['--allow-pickle'] if args.allow_pickle else []
    elif args.checkpoint_path:
        flags += resume_flags(args.checkpoint_path, args.allow_pickle)
    return flags
