"""Train Tacotron 2, WaveGlow or FastPitch.

    python train.py -m FastPitch -o output -lr 0.1 -bs 32 --epochs 1500 --training-files F --validation-files F
    torchrun --nproc-per-node G train.py ...      (or python -m multiproc train.py ...; NCCL on GPUs, gloo on CPUs)

The recipe, top to bottom: parse the flags, set up ranks, precision and seeds, build the model (fresh, warm-started
from --checkpoint-path, or resumed from the last checkpoint in --output), the optimizer and the data, then loop over
epochs: steps (common/training.py), validation, checkpoints. Model details come from the model package named by -m
(models.py); this file names no model.

Decisions where the reference was silent or differed:
  * epochs count from 1; --anneal-steps compare with the 0-based epoch as the reference does;
  * --checkpoint-path is a warm start (weights of any accepted format, the optimizer state when it fits, epochs and
    schedule from zero); --resume-from-last continues exactly and wins over --checkpoint-path once the run has a
    checkpoint of its own, so a preempted fine-tuning job resumes when restarted with the same command;
  * SIGTERM/SIGINT: a checkpoint at the next step boundary, then exit code 0 (a second signal stops at once);
  * --amp --amp-dtype fp16 on a CPU is an error (use bf16); TensorBoard is on by default (<output>/tensorboard);
  * cuDNN is on by default (--no-cudnn-enabled turns it off), unlike the reference's opt-in flag.
"""
import argparse
import contextlib
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

import models
from common import distributed
from common.checkpoint import CheckpointManager, load_checkpoint
from common.data_args import add_audio_args, add_text_args
from common.logger import Logger
from common.plotting import heatmap_image
from common.training import (OPTIMIZERS, GradientStep, NonFiniteLossError, StopRequest, TrainingError,
                             build_optimizer, configure_backends, ignore_stop_signals, learning_rate_at, reduce_sums,
                             resolve_precision, set_learning_rate, split_loss_output, validate)
from common.training_state import (Progress, ResumableBatchSampler, checkpoint_payload, loader_seed,
                                   optimizer_state_mismatch, read_training_checkpoint, resume_progress, unwrap)
from data_functions import add_data_args


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        """One line, not the usage block: the flag and what is wrong with it."""
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')


def _checked(kind, valid, requirement):
    def convert(text):
        value = kind(text)
        if not valid(value):
            raise argparse.ArgumentTypeError(f'{text} is not {requirement}')
        return value
    convert.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return convert


positive_int = _checked(int, lambda v: v >= 1, 'a positive integer')
non_negative_int = _checked(int, lambda v: v >= 0, 'a non-negative integer')
positive_float = _checked(float, lambda v: v > 0 and math.isfinite(v), 'a positive number')
non_negative_float = _checked(float, lambda v: v >= 0 and math.isfinite(v), 'a non-negative number')


def add_training_args(parser):
    run = parser.add_argument_group('run')
    run.add_argument('-m', '--model-name', required=True, choices=list(models.MODELS), help='Model to train')
    run.add_argument('-o', '--output', required=True, help='Folder for checkpoints and logs')
    run.add_argument('--config-file', help='JSON object of flags (e.g. {"learning-rate": 0.001}); '
                                           'flags on the command line win')
    run.add_argument('--log-file', help='JSON-lines log (default <output>/nvlog.json)')
    run.add_argument('--tensorboard', help='TensorBoard folder (default <output>/tensorboard)')
    run.add_argument('--no-tensorboard', action='store_true', help='Write no TensorBoard events')
    run.add_argument('--epochs', required=True, type=positive_int, help='Epochs to train (counted from 1)')
    run.add_argument('--epochs-per-checkpoint', default=50, type=positive_int,
                     help='Save a checkpoint every N epochs (and after the last one)')
    run.add_argument('--iters-per-checkpoint', default=0, type=non_negative_int,
                     help='Also save every N optimizer steps (0: off)')
    run.add_argument('--keep-checkpoints', default=None, type=positive_int,
                     help='Keep only the newest N checkpoints (default: all)')
    run.add_argument('--keep-milestones', default=[], nargs='*', type=positive_int,
                     help='Epochs whose checkpoints --keep-checkpoints never deletes')
    run.add_argument('--checkpoint-path', default=None,
                     help='Warm start: weights from a checkpoint of any accepted format (ours, the reference '
                          'ones, bare state dicts), its optimizer state when it fits')
    run.add_argument('--allow-pickle', action='store_true',
                     help='Let --checkpoint-path unpickle Python objects (NVIDIA/waveglow files); trusted files only')
    run.add_argument('--resume-from-last', action='store_true',
                     help='Continue exactly from the newest intact checkpoint in --output, if there is one')
    run.add_argument('--seed', default=1234, type=int, help='Seed of every random generator (plus the rank)')
    run.add_argument('--disable-uniform-initialize-bn-weight', action='store_true',
                     help='Start BatchNorm scales at one instead of U(0, 1) draws (the reference default)')
    run.add_argument('--validation-interval', default=1, type=positive_int,
                     help='Validate every N epochs (and after the last one)')
    run.add_argument('--target-val-loss', default=None, type=float,
                     help='Stop (after saving a checkpoint) once the validation loss is at most this')
    run.add_argument('--workers', default=4, type=non_negative_int,
                     help='DataLoader worker processes per rank (0: load in the training process)')

    precision = parser.add_argument_group('precision and devices')
    precision.add_argument('--amp', '--amp-run', action='store_true', dest='amp',
                           help='Mixed precision with torch.amp autocast')
    precision.add_argument('--amp-dtype', default='fp16', choices=('fp16', 'bf16'),
                           help='Autocast type: fp16 (CUDA, dynamic loss scaling) or bf16 (CUDA or CPU)')
    precision.add_argument('--tf32', default=True, action=argparse.BooleanOptionalAction,
                           help='TF32 matmuls and convolutions on Ampere or newer GPUs')
    precision.add_argument('--cudnn-enabled', default=True, action=argparse.BooleanOptionalAction,
                           help='Use cuDNN')
    precision.add_argument('--cudnn-benchmark', default=False, action=argparse.BooleanOptionalAction,
                           help='Let cuDNN pick the fastest kernels (input shapes vary: usually not worth it)')

    optimization = parser.add_argument_group('optimization')
    optimization.add_argument('-lr', '--learning-rate', required=True, type=positive_float,
                              help='Base learning rate')
    optimization.add_argument('-bs', '--batch-size', required=True, type=positive_int, help='Batch size per rank')
    optimization.add_argument('--gradient-accumulation-steps', default=1, type=positive_int,
                              help='Batches per optimizer step (the loss is divided by this)')
    optimization.add_argument('--optimizer', default='adam', choices=OPTIMIZERS, help='Optimizer')
    optimization.add_argument('--optimizer-betas', default=[0.9, 0.999], nargs=2, type=float,
                              help='Adam/LAMB betas')
    optimization.add_argument('--optimizer-eps', default=1e-8, type=positive_float, help='Adam/LAMB epsilon')
    optimization.add_argument('--weight-decay', default=1e-6, type=non_negative_float, help='Weight decay')
    optimization.add_argument('--grad-clip-thresh', default=1.0, type=positive_float,
                              help='Clip the gradient norm to this')
    optimization.add_argument('--warmup-steps', default=0, type=non_negative_int,
                              help='Linear warm-up then inverse square-root decay per step (0: anneal by epoch)')
    optimization.add_argument('--anneal-steps', default=[], nargs='*', type=non_negative_int,
                              help='Epochs (0-based) at which the learning rate is multiplied by --anneal-factor')
    optimization.add_argument('--anneal-factor', default=0.1, type=float, choices=(0.1, 0.3),
                              help='Annealing factor (0.3 alternates 0.3 and 0.1 per decade, as the reference)')
    optimization.add_argument('--max-nonfinite-steps', default=10, type=positive_int,
                              help='Stop after this many steps in a row with a non-finite loss or gradient')
    return parser


def build_parser(model_name=None):
    parser = ArgumentParser(prog='train.py', description=__doc__.splitlines()[0],
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_training_args(parser)
    add_data_args(parser)
    add_audio_args(parser)
    add_text_args(parser)
    if model_name is not None:
        models.add_model_args(model_name, parser)
    return parser


def read_config_file(path):
    """{flag dest: value} from a JSON object whose keys are flag names ("learning-rate", "--learning-rate") or
    their dests ("learning_rate")."""
    try:
        config = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrainingError(f'--config-file {path}: no such file') from None
    except (OSError, json.JSONDecodeError) as error:
        raise TrainingError(f'--config-file {path}: not readable JSON ({error})') from None
    if not isinstance(config, dict):
        raise TrainingError(f'--config-file {path}: expected a JSON object of flags, found {type(config).__name__}')
    return {key.lstrip('-').replace('-', '_'): value for key, value in config.items()}


def config_tokens(config, parser, path):
    """The config file's flags as command-line tokens, so that argparse checks them like typed ones."""
    actions = {action.dest: action for action in parser._actions if action.option_strings}
    tokens = []
    for dest, value in config.items():
        action = actions.get(dest)
        if action is None or dest in ('config_file', 'help'):
            raise TrainingError(f'--config-file {path}: unknown flag {dest!r}')
        if isinstance(action, argparse.BooleanOptionalAction):  # option strings: --flag, --no-flag
            tokens.append(action.option_strings[0 if value else 1])
        elif action.nargs == 0:  # store_true
            if not isinstance(value, bool):
                raise TrainingError(f'--config-file {path}: {dest!r} takes true or false, not {value!r}')
            tokens += [action.option_strings[-1]] if value else []
        else:
            tokens += [action.option_strings[-1], *map(str, value if isinstance(value, list) else [value])]
    return tokens


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    first = ArgumentParser(prog='train.py', add_help=False)
    first.add_argument('-m', '--model-name')
    first.add_argument('--config-file')
    known, _ = first.parse_known_args(argv)
    config = read_config_file(known.config_file) if known.config_file else {}
    model_name = known.model_name or config.get('model_name')
    if model_name is not None:
        models.model_package(model_name)  # a one-line error for an unknown name
    parser = build_parser(model_name)
    # the config file's flags go first, so that the command line overrides them
    return parser.parse_args(config_tokens(config, parser, known.config_file) + argv)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def build_model(args, package, resume_checkpoint, logger):
    """(model on the CPU, its config): from the resumed checkpoint, a warm start, or the flags."""
    if resume_checkpoint is not None:
        config = resume_checkpoint['config']
        model = models.get_model(args.model_name, config, 'cpu')
        model.load_state_dict(resume_checkpoint['state_dict'])
    elif args.checkpoint_path:
        model, config = models.build_model_from_checkpoint(args.model_name, args.checkpoint_path, args.allow_pickle)
        logger.info(f'warm start from {args.checkpoint_path} (its model config; the model flags are not used)')
    else:
        config = models.get_model_config(args.model_name, args)
        model = models.get_model(args.model_name, config, 'cpu')
        if not args.disable_uniform_initialize_bn_weight:
            uniform_initialize_bn_weights(model)
    prepare = getattr(package, 'prepare_for_training', None)
    if prepare is not None:
        prepare(model, args)
    return model, config


def uniform_initialize_bn_weights(model):
    """The reference train.py starts BatchNorm scales at U(0, 1) draws rather than ones (Tacotron 2's encoder and
    postnet; the other models have no BatchNorm)."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.affine:
            torch.nn.init.uniform_(module.weight)


def load_optimizer_state(optimizer, state, source, logger):
    problem = optimizer_state_mismatch(optimizer, state)
    if problem:
        logger.info(f'warning: optimizer state of {source} not loaded: {problem}')
        return
    optimizer.load_state_dict(state)


def warm_start_optimizer(args, optimizer, logger):
    checkpoint = load_checkpoint(args.checkpoint_path, allow_pickle=args.allow_pickle)
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('optimizer'), dict):
        load_optimizer_state(optimizer, checkpoint['optimizer'], args.checkpoint_path, logger)


def data_loaders(args, package, rank, world_size, device):
    train_set = package.get_dataset(args, args.training_files)
    val_set = package.get_dataset(args, args.validation_files)
    collate = package.get_collate_fn(args)
    batches = ResumableBatchSampler(train_set, args.batch_size, args.gradient_accumulation_steps, rank, world_size,
                                    args.seed)
    if batches.batches_per_epoch() == 0:
        raise TrainingError(f'--batch-size {args.batch_size}: {len(train_set)} training clips in '
                            f'{args.training_files} give no optimizer step of {args.gradient_accumulation_steps} '
                            f'batch(es) on each of {world_size} rank(s)')
    common = dict(num_workers=args.workers, collate_fn=collate, pin_memory=device.type == 'cuda',
                  worker_init_fn=ignore_stop_signals)
    train_loader = DataLoader(train_set, batch_sampler=batches, generator=torch.Generator(), **common)
    # every rank validates its own share of the clips, without DistributedSampler's padding by repetition
    val_loader = DataLoader(val_set, sampler=range(rank, len(val_set), world_size), batch_size=args.batch_size,
                            **common)
    return train_loader, val_loader


def describe_metrics(logger, items):
    units = {'train_items_per_sec': f'{items}/s', 'train_iter_time': 's', 'train_epoch_items_per_sec': f'{items}/s',
             'train_epoch_time': 's', 'val_items_per_sec': f'{items}/s', 'val_time': 's'}
    for name in ('train_loss', 'train_lr', 'train_grad_norm', 'train_epoch_loss', 'val_loss', *units):
        logger.metadata(name, {'unit': units[name]} if name in units else {})


def train(args, stop, cleanup):
    # ---- set up: ranks, precision, seeds, output -------------------------------------------------------------
    dist = distributed.init_distributed()
    device, rank, world_size = dist.device, dist.rank, dist.world_size
    main_process = rank == 0
    package = models.model_package(args.model_name)
    precision = resolve_precision(device, args.amp, args.amp_dtype)
    tf32 = configure_backends(device, args.cudnn_enabled, args.cudnn_benchmark, args.tf32)
    if args.warmup_steps > 0 and args.anneal_steps:
        raise TrainingError('--anneal-steps and --warmup-steps > 0 select two different schedules: choose one '
                            '(pass --warmup-steps 0 to anneal by epoch)')
    seed_everything(args.seed + rank)
    train_loader, val_loader = data_loaders(args, package, rank, world_size, device)  # bad filelists fail early
    batches = train_loader.batch_sampler

    output = Path(args.output)
    checkpoints = CheckpointManager(output, args.model_name, keep_last=args.keep_checkpoints,
                                    milestones=args.keep_milestones)
    resume_path = None
    if args.resume_from_last and main_process and output.is_dir():
        resume_path = checkpoints.last_path()
    resume_path = distributed.broadcast_object(resume_path)  # every rank resumes from the file rank 0 chose
    resume_checkpoint = read_training_checkpoint(resume_path, args.model_name) if resume_path else None
    tensorboard_dir = None if args.no_tensorboard else (args.tensorboard or output / 'tensorboard')
    logger = Logger(args.log_file or output / 'nvlog.json', tensorboard_dir, enabled=main_process,
                    stdout=sys.stdout, append=resume_path is not None)
    cleanup.callback(logger.close)
    logger.log('PARAMETER', vars(args))
    describe_metrics(logger, package.ITEMS)

    # ---- build: model, optimizer, step mechanics, data ---------------------------------------------------------
    model, config = build_model(args, package, resume_checkpoint, logger)
    model = model.to(device).train()
    optimizer = build_optimizer(args.optimizer, model.parameters(), args.learning_rate, args.weight_decay,
                                args.optimizer_betas, args.optimizer_eps)
    stepper = GradientStep(model, optimizer, precision, args.gradient_accumulation_steps, args.grad_clip_thresh,
                           args.max_nonfinite_steps)
    progress = Progress()
    if resume_checkpoint is not None:
        load_optimizer_state(optimizer, resume_checkpoint['optimizer'], resume_path, logger)
        if stepper.scaler.is_enabled() and resume_checkpoint['scaler']:
            stepper.scaler.load_state_dict(resume_checkpoint['scaler'])
        progress = resume_progress(resume_checkpoint, args, rank, world_size,
                                   warn=lambda text: logger.info(f'warning: {text}'))
        logger.info(f'resuming from {resume_path}: epoch {progress.epoch}, batch {progress.batches_done}, '
                    f'step {progress.iteration}')
        del resume_checkpoint  # the weights now live in the model: free the copy
    elif args.checkpoint_path:
        warm_start_optimizer(args, optimizer, logger)
    if world_size > 1:
        model = DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None)
    loss_function = package.build_loss(args)
    logger.info(f'{args.model_name}: {sum(p.numel() for p in model.parameters())} parameters, '
                f'{precision.name}{" with TF32" if tf32 else ""}, {world_size} rank(s) on {device.type}, '
                f'{len(train_loader.dataset)} training / {len(val_loader.dataset)} validation clips, '
                f'{batches.batches_per_epoch() // args.gradient_accumulation_steps} steps per epoch')

    def save(epoch_complete):
        payload = checkpoint_payload(args.model_name, model, config, optimizer, stepper.scaler, progress,
                                     optimizer.param_groups[0]['lr'], args, epoch_complete)
        if main_process:
            iteration = None if epoch_complete else progress.iteration
            logger.info(f'saved {checkpoints.save(payload, progress.epoch, iteration)}')

    def run_validation():
        start = time.perf_counter()
        val_loss, val_items, last = validate(unwrap(model), val_loader, loss_function, package.batch_to_device,
                                             device, precision)
        elapsed = time.perf_counter() - start
        logger.log((progress.epoch,), {'val_loss': val_loss, 'val_items_per_sec': val_items / elapsed,
                                       'val_time': elapsed}, tensorboard_step=progress.iteration)
        images = getattr(package, 'validation_images', None)
        if main_process and logger.tensorboard is not None and images is not None and last is not None:
            for tag, array in images(*last).items():
                logger.image(f'validation/{tag}', heatmap_image(array), progress.iteration)
        return val_loss

    # ---- loop: epochs of steps, validation, checkpoints --------------------------------------------------------
    k = args.gradient_accumulation_steps
    show_bar = main_process and sys.stderr.isatty()
    val_loss = None
    run_start = time.perf_counter()
    if progress.epoch > args.epochs:
        logger.info(f'nothing to do: {args.epochs} epochs already trained')
    while progress.epoch <= args.epochs:
        epoch = progress.epoch
        batches.set_epoch(epoch, skip=progress.batches_done)
        train_loader.generator.manual_seed(loader_seed(args.seed, rank, epoch))
        save_due_at_epoch_end = False
        step_start = time.perf_counter()
        for index, batch in enumerate(tqdm(train_loader, disable=not show_bar, desc=f'epoch {epoch}',
                                           leave=False), start=progress.batches_done):
            if index % k == 0:
                learning_rate = learning_rate_at(args, epoch, progress.iteration + 1)
                set_learning_rate(optimizer, learning_rate)
                sums = {'loss': torch.zeros((), device=device), 'items': torch.zeros((), device=device)}
            x, y, num_items = package.batch_to_device(batch, device)
            with precision.autocast():
                loss, meta = split_loss_output(loss_function(model(x), y))
            last_micro_batch = index % k == k - 1
            stepper.backward(loss, last_micro_batch)
            sums['loss'] += loss.detach().float() / k
            sums['items'] += num_items
            for key, value in meta.items():
                if key != 'loss':
                    sums[key] = sums.get(key, 0) + value.float() / k
            if not last_micro_batch:
                continue

            # ---- the step boundary: reduce over ranks (with the stop flag), step, log, maybe save or stop ----
            sums['stop'] = stop.flag(device)
            reduced = reduce_sums(sums)
            step_loss = reduced.pop('loss') / world_size
            result = stepper.step(step_loss)
            elapsed = time.perf_counter() - step_start
            step_start = time.perf_counter()
            progress.record_step(index + 1, step_loss, reduced['items'], elapsed)
            data = {'train_loss': step_loss, 'train_items_per_sec': reduced['items'] / elapsed,
                    'train_lr': learning_rate, 'train_grad_norm': result.grad_norm, 'train_iter_time': elapsed}
            data.update({f'train_{key}': value / world_size for key, value in reduced.items()
                         if key not in ('items', 'stop')})
            logger.log((epoch, progress.batches_done // k), data, tensorboard_step=progress.iteration)
            if result.nonfinite:
                logger.info(f'warning: step {progress.iteration} skipped: non-finite loss or gradient '
                            f'({stepper.nonfinite_in_a_row} in a row, stopping at {args.max_nonfinite_steps})')
                stepper.check_nonfinite_limit()
            epoch_ends = progress.batches_done == batches.batches_per_epoch()
            if reduced['stop'] > 0 and not epoch_ends:
                save(epoch_complete=False)
                logger.info(f'stopped by a signal at epoch {epoch} step {progress.iteration}; '
                            'continue with --resume-from-last')
                return 0
            if args.iters_per_checkpoint and progress.iteration % args.iters_per_checkpoint == 0:
                if epoch_ends:
                    save_due_at_epoch_end = True
                else:
                    save(epoch_complete=False)

        logger.log((epoch,), {'train_epoch_loss': progress.epoch_loss_sum / progress.epoch_steps,
                              'train_epoch_items_per_sec': progress.epoch_items / progress.epoch_seconds,
                              'train_epoch_time': progress.epoch_seconds}, tensorboard_step=progress.iteration)
        last_epoch = epoch == args.epochs
        reached = False
        if epoch % args.validation_interval == 0 or last_epoch:
            val_loss = run_validation()
            reached = args.target_val_loss is not None and val_loss <= args.target_val_loss
        stopping = reduce_sums({'stop': stop.flag(device)})['stop'] > 0  # a signal may come during validation
        if epoch % args.epochs_per_checkpoint == 0 or last_epoch or reached or stopping or save_due_at_epoch_end:
            save(epoch_complete=True)
        if reached:
            logger.info(f'validation loss {val_loss:.5g} reached --target-val-loss {args.target_val_loss}')
            break
        if stopping and not last_epoch:
            logger.info(f'stopped by a signal after epoch {epoch}; continue with --resume-from-last')
            return 0
        progress.start_epoch(epoch + 1)
    logger.log((), {'val_loss': val_loss, 'iterations': progress.iteration,
                    'run_time': time.perf_counter() - run_start})
    return 0


def one_line(error):
    """The error's message on one line; a DataLoader worker's error carries the worker's traceback, whose last
    line is the original message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def main(argv=None):
    try:
        args = parse_args(argv)
        with StopRequest() as stop, contextlib.ExitStack() as cleanup:
            return train(args, stop, cleanup)
    except (ValueError, NonFiniteLossError) as error:
        print(f'train.py: error: {one_line(error)}', file=sys.stderr)
        return 1
    finally:
        distributed.cleanup()


if __name__ == '__main__':
    sys.exit(main())
