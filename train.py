"""Train any model of the table in models.py.

    python train.py -m NAME -o output -lr 0.1 -bs 32 --epochs 1500 --training-files F --validation-files F
    torchrun --nproc-per-node G train.py ...      (or python -m multiproc train.py ...; NCCL on GPUs, gloo on CPUs)

The recipe, top to bottom (train() at the end): parse the flags; set up ranks, precision, seeds, data and the log
(set_up); get the model and state: fresh, warm-started from --checkpoint-path or resumed from the last checkpoint
in --output (common/restore.py); then epochs of optimizer steps, each epoch ended by validation and checkpoints as
the schedule says (Trainer, common/run_schedule.py). Everything model-specific comes from the spec that -m names
(common/model_spec.py): its flags, data, loss and training step; this file names no model. The command lines of
NVIDIA/tacotron2 and NVIDIA/waveglow are translated into these flags by the model's spec (upstream_train_args).

Decisions where the reference was silent or differed:
  * epochs count from 1; --anneal-steps compare with the 0-based epoch as the reference does;
  * --checkpoint-path is a warm start (weights of any accepted format, the optimizer state when it fits, epochs and
    schedule from zero); --resume-from-last continues exactly and wins over --checkpoint-path once the run has a
    checkpoint of its own, so a preempted fine-tuning job resumes when restarted with the same command;
  * SIGTERM/SIGINT/SIGHUP: a checkpoint at the next step boundary, then exit code 0 (a second SIGTERM or SIGINT
    stops at once; a rank whose launcher was killed gets SIGHUP);
  * --amp --amp-dtype fp16 on a CPU is an error (use bf16); TensorBoard is on by default (<output>/tensorboard);
  * cuDNN is on by default (--no-cudnn-enabled turns it off), unlike the reference's opt-in flag.
"""
import argparse
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

import models
from common import distributed
from common.checkpoint import CheckpointManager
from common.cli import ArgumentParser, command, non_negative_float, non_negative_int, positive_float, positive_int
from common.data_args import add_audio_args, add_data_args, add_text_args
from common.fileio import read_json
from common.logger import Logger
from common.model_spec import ModelSpec
from common.plotting import heatmap_image
from common.restore import restore
from common.run_schedule import RunSchedule
from common.sampling_rates import check_trained_sampling_rates
from common.precision import Precision, configure_backends, resolve_precision
from common.training import (OPTIMIZERS, NonFiniteLossError, StepMetrics, StopRequest, TrainingError,
                             learning_rate_at, loaded_batches, prepare_worker, stop_worker_processes, validate)
from common.training_state import (ResumableBatchSampler, SeededItems, checkpoint_payload, loader_seed,
                                   seed_every_generator, unwrap)
from common.upstream_checkpoints import IterationCheckpoints


def add_training_args(parser):
    add_run_args(parser.add_argument_group('run'))
    add_precision_args(parser.add_argument_group('precision and devices'))
    add_optimization_args(parser.add_argument_group('optimization'))
    return parser


def add_run_args(run):
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
                     help='Let --checkpoint-path unpickle Python objects (pickled checkpoints of the original NVIDIA '
                          'repositories); trusted files only')
    run.add_argument('--resume-from-last', action='store_true',
                     help='Continue exactly from the newest intact checkpoint in --output, if there is one')
    run.add_argument('--seed', default=1234, type=int, help='Seed of every random generator (plus the rank)')
    run.add_argument('--disable-uniform-initialize-bn-weight', action='store_true',
                     help='Start BatchNorm scales at one instead of U(0, 1) draws (the reference default)')
    run.add_argument('--validation-interval', default=1, type=positive_int,
                     help='Validate every N epochs (and after the last one)')
    run.add_argument('--target-val-loss', default=None, type=float,
                     help='Stop (after saving a checkpoint) once the validation loss is at most this')
    run.add_argument('--validate-at-checkpoints', action='store_true',
                     help='Also validate at every --iters-per-checkpoint save, and stop there once '
                          '--target-val-loss is reached (NVIDIA/tacotron2)')
    run.add_argument('--checkpoint-name', default=None, metavar='TEMPLATE',
                     help='Name every checkpoint by iteration, counted from 0 with the first save after the first '
                          'step, e.g. checkpoint_{iteration} (NVIDIA/tacotron2, NVIDIA/waveglow)')
    run.add_argument('--resume-from', default=None, metavar='CHECKPOINT',
                     help='Continue exactly from this checkpoint of ours (as --resume-from-last does from the newest)')
    run.add_argument('--warm-start-skip', default=[], nargs='*', metavar='KEY',
                     help='With --checkpoint-path: build the model from the flags and take every weight of the file '
                          'but these state-dict keys, with a fresh optimizer (NVIDIA/tacotron2 --warm_start)')
    run.add_argument('--workers', default=4, type=non_negative_int,
                     help='DataLoader worker processes per rank (0: load in the training process)')


def add_precision_args(precision):
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


def add_optimization_args(optimization):
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
    optimization.add_argument('--lr-decay', default=1.0, type=positive_float,
                              help='Multiply the learning rate by this after every epoch (exponential decay; 1: none)')
    optimization.add_argument('--max-nonfinite-steps', default=10, type=positive_int,
                              help='Stop after this many steps in a row with a non-finite loss or gradient')


def build_parser(model_name=None):
    parser = ArgumentParser(prog='train.py', description=__doc__.splitlines()[0],
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_training_args(parser)
    add_data_args(parser)
    add_audio_args(parser)
    add_text_args(parser)
    if model_name is not None:
        models.model_spec(model_name).add_model_args(parser)
    return parser


def read_config_file(path):
    """{flag dest: value} from a JSON object whose keys are flag names ("learning-rate", "--learning-rate") or
    their dests ("learning_rate")."""
    config = read_json(path, f'--config-file {path}', TrainingError)
    if not isinstance(config, dict):
        raise TrainingError(f'--config-file {path}: expected a JSON object of flags, found {type(config).__name__}')
    return {key.lstrip('-').replace('-', '_'): value for key, value in config.items()}


def config_value_problem(action, value):
    """What the flag of `action` takes when the JSON `value` does not fit it (argparse would read a string "false"
    as a true switch, null as the text None, true as 1), or None. Values that fit are then parsed as typed ones."""
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        return None if isinstance(value, bool) else 'true or false'
    if isinstance(action.const, bool) and isinstance(value, bool):  # a switch that also takes a value
        return None
    expected, fits = json_kind(action.type)
    takes_list = action.nargs not in (None, '?')
    if all(map(fits, value if takes_list and isinstance(value, list) else [value])):
        return None
    return f'{expected} or a list of them' if takes_list else expected


def json_kind(flag_type):
    """(what a flag of this argparse type takes, as words; whether a JSON value is one)."""
    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = getattr(flag_type, '__name__', None)  # common/cli's checked types keep their base type's name
    if kind == 'int':
        return 'an integer', lambda value: number(value) and isinstance(value, int)
    if kind == 'float':
        return 'a number', number
    if flag_type in (None, str):
        return 'a string', lambda value: isinstance(value, str)
    # a type of its own (e.g. HiFi-GAN's '1,2' lists, which also read a config file's nested [1, 2]) checks the text
    return 'a string, number or list', lambda value: isinstance(value, (str, list)) or number(value)


def config_tokens(config, parser, path):
    """The config file's flags as command-line tokens, so that argparse checks them like typed ones."""
    actions = {action.dest: action for action in parser._actions if action.option_strings}
    tokens = []
    for dest, value in config.items():
        action = actions.get(dest)
        if action is None or dest in ('config_file', 'help'):
            raise TrainingError(f'--config-file {path}: unknown flag {dest!r}')
        problem = config_value_problem(action, value)
        if problem:
            raise TrainingError(f'--config-file {path}: {dest!r} takes {problem}, not {json.dumps(value)}')
        if isinstance(action, argparse.BooleanOptionalAction):  # option strings: --flag, --no-flag
            tokens.append(action.option_strings[0 if value else 1])
        elif action.nargs == 0:  # store_true
            tokens += [action.option_strings[-1]] if value else []
        else:
            tokens += [action.option_strings[-1], *map(str, value if isinstance(value, list) else [value])]
    return tokens


def parse_args(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = models.upstream_train_args(argv) or argv  # NVIDIA/tacotron2's or NVIDIA/waveglow's command line
    first = ArgumentParser(prog='train.py', add_help=False)
    first.add_argument('-m', '--model-name')
    first.add_argument('--config-file')
    known, _ = first.parse_known_args(argv)
    config = read_config_file(known.config_file) if known.config_file else {}
    model_name = known.model_name or config.get('model_name')
    if model_name is not None:
        models.model_spec(model_name)  # a one-line error for an unknown name
    parser = build_parser(model_name)
    # the config file's flags go first, so that the command line overrides them
    return parser.parse_args(config_tokens(config, parser, known.config_file) + argv)


def data_loaders(args, spec, rank, world_size, device):
    train_set = spec.get_dataset(args, args.training_files)
    val_set = spec.get_dataset(args, args.validation_files)
    collate = spec.get_collate_fn(args)
    batches = ResumableBatchSampler(train_set, args.batch_size, args.gradient_accumulation_steps, rank, world_size,
                                    args.seed)
    if batches.batches_per_epoch() == 0:
        raise TrainingError(f'--batch-size {args.batch_size}: {len(train_set)} training clips in '
                            f'{args.training_files} give no optimizer step of {args.gradient_accumulation_steps} '
                            f'batch(es) on each of {world_size} rank(s)')
    common = dict(num_workers=args.workers, collate_fn=collate, pin_memory=device.type == 'cuda',
                  worker_init_fn=prepare_worker)
    train_loader = DataLoader(SeededItems(train_set, args.seed), batch_sampler=batches, generator=torch.Generator(),
                              **common)
    # every rank validates its own share of the clips, without DistributedSampler's padding by repetition
    val_loader = DataLoader(SeededItems(val_set, args.seed), sampler=range(rank, len(val_set), world_size),
                            batch_size=args.batch_size, **common)
    return train_loader, val_loader


def describe_metrics(logger, items):
    units = {'train_items_per_sec': f'{items}/s', 'train_iter_time': 's', 'train_epoch_items_per_sec': f'{items}/s',
             'train_epoch_time': 's', 'val_items_per_sec': f'{items}/s', 'val_time': 's'}
    for name in ('train_loss', 'train_lr', 'train_grad_norm', 'train_epoch_loss', 'val_loss', *units):
        logger.metadata(name, {'unit': units[name]} if name in units else {})


@dataclass
class Setup:
    """What a run is set up with before its model exists: ranks, precision, data, checkpoints and the log."""
    spec: ModelSpec
    dist: distributed.DistInfo
    precision: Precision
    tf32: bool
    train_loader: DataLoader
    val_loader: DataLoader
    checkpoints: CheckpointManager
    resume_path: Optional[Path]
    logger: Logger


def set_up(args, cleanup):
    """Ranks, precision and seeds; the data (bad filelists fail before anything is written); the checkpoint this
    run resumes from, chosen by rank 0 for every rank; the log, appended to when resuming."""
    dist = distributed.init_distributed()
    spec = models.model_spec(args.model_name)
    precision = resolve_precision(dist.device, args.amp, args.amp_dtype)
    tf32 = configure_backends(dist.device, args.cudnn_enabled, args.cudnn_benchmark, args.tf32)
    if args.warmup_steps > 0 and (args.anneal_steps or args.lr_decay != 1):
        flag = '--anneal-steps' if args.anneal_steps else '--lr-decay'
        raise TrainingError(f'{flag} and --warmup-steps > 0 select two different schedules: choose one '
                            '(pass --warmup-steps 0 to schedule by epoch)')
    seed_every_generator(args.seed + dist.rank)
    train_loader, val_loader = data_loaders(args, spec, dist.rank, dist.world_size, dist.device)

    output = Path(args.output)
    if args.checkpoint_name:
        checkpoints = IterationCheckpoints(output, args.checkpoint_name)
    else:
        checkpoints = CheckpointManager(output, spec.name, keep_last=args.keep_checkpoints,
                                        milestones=args.keep_milestones)
    resume_path = Path(args.resume_from) if args.resume_from else None
    if args.resume_from_last and dist.rank == 0 and output.is_dir():
        resume_path = checkpoints.last_path() or resume_path
    resume_path = distributed.broadcast_object(resume_path)
    tensorboard_dir = None if args.no_tensorboard else (args.tensorboard or output / 'tensorboard')
    logger = Logger(args.log_file or output / 'nvlog.json', tensorboard_dir, enabled=dist.rank == 0,
                    stdout=sys.stdout, append=resume_path is not None)
    cleanup.callback(logger.close)
    logger.log('PARAMETER', vars(args))
    describe_metrics(logger, spec.item_unit)
    return Setup(spec, dist, precision, tf32, train_loader, val_loader, checkpoints, resume_path, logger)


class Trainer:
    """One training run: epochs of optimizer steps, each epoch ended by validation and checkpoints as the
    schedule says. A signal stops the run at the next step boundary, after a checkpoint."""

    def __init__(self, args, setup, restored, stop):
        self.args, self.spec, self.stop = args, setup.spec, stop
        self.device, self.rank, self.world_size = setup.dist.device, setup.dist.rank, setup.dist.world_size
        self.precision, self.logger, self.checkpoints = setup.precision, setup.logger, setup.checkpoints
        self.train_loader, self.val_loader = setup.train_loader, setup.val_loader
        self.batches = setup.train_loader.batch_sampler
        self.schedule = RunSchedule.from_args(args)
        self.config, self.progress = restored.config, restored.progress
        self.model = restored.model.to(self.device)
        if self.world_size > 1:
            self.model = DistributedDataParallel(
                self.model, device_ids=[self.device] if self.device.type == 'cuda' else None)
        self.loss_function = self.spec.build_loss(args)
        self.step = self.spec.build_training_step(self.model, self.loss_function, args, self.precision)
        self.step.load_state_dict(restored.step_state, restored.source,
                                  warn=lambda text: self.logger.info(f'warning: {text}'))
        self.learning_rate = learning_rate_at(args, self.progress.epoch, self.progress.iteration + 1)
        self.val_loss = None
        self.step_start = None

    def run(self):
        """Train to the last epoch, the target validation loss or a signal; returns the exit code."""
        run_start = time.perf_counter()
        if self.progress.epoch > self.args.epochs:
            self.logger.info(f'nothing to do: {self.args.epochs} epochs already trained')
        outcome = None
        while self.progress.epoch <= self.args.epochs:
            outcome = self.train_epoch()
            if outcome == 'next':
                outcome = self.end_epoch()
            if outcome == 'stopped':
                return 0
            if outcome == 'finished':
                break
            self.progress.start_epoch(self.progress.epoch + 1)
        self.logger.log((), {'val_loss': self.val_loss, 'iterations': self.progress.iteration,
                             'run_time': time.perf_counter() - run_start})
        if self.args.target_val_loss is not None:
            self.logger.info(f'training status: {"success" if outcome == "finished" else "aborted"} (--target-val-loss '
                             f'{self.args.target_val_loss} {"reached" if outcome == "finished" else "not reached"})')
        return 0

    def train_epoch(self):
        """The epoch's remaining optimizer steps -> 'stopped' when a signal ended the run mid-epoch, 'finished'
        when a validation within it reached --target-val-loss, else 'next'."""
        epoch, k = self.progress.epoch, self.args.gradient_accumulation_steps
        self.batches.set_epoch(epoch, skip=self.progress.batches_done)
        self.train_loader.generator.manual_seed(loader_seed(self.args.seed, self.rank, epoch))
        self.spec.start_epoch(self.loss_function, epoch)
        self.step_start = time.perf_counter()
        bar = tqdm(loaded_batches(self.train_loader), total=len(self.train_loader), desc=f'epoch {epoch}',
                   disable=not (self.rank == 0 and sys.stderr.isatty()), leave=False)
        for index, batch in enumerate(bar, start=self.progress.batches_done):
            if index % k == 0:
                metrics = self.begin_step()
            x, y, num_items = self.spec.batch_to_device(batch, self.device)
            loss, meta = self.step.accumulate(x, y, last_micro_batch=index % k == k - 1)
            metrics.add(loss, meta, num_items)
            if index % k == k - 1:
                self.finish_step(metrics, batches_done=index + 1)
                outcome = self.after_step()
                if outcome != 'next':
                    return outcome
        return 'next'

    def begin_step(self):
        self.learning_rate = learning_rate_at(self.args, self.progress.epoch, self.progress.iteration + 1)
        self.step.set_learning_rate(self.learning_rate)
        return StepMetrics(self.device, self.args.gradient_accumulation_steps)

    def finish_step(self, metrics, batches_done):
        """Reduce the step's metrics over ranks, apply the gradient, log."""
        means, items = metrics.reduced(self.world_size)
        step_loss = means.pop('loss')
        result = self.step.step(step_loss)
        now = time.perf_counter()
        elapsed, self.step_start = now - self.step_start, now
        self.progress.record_step(batches_done, step_loss, items, elapsed)
        data = {'train_loss': step_loss, 'train_items_per_sec': items / elapsed, 'train_lr': self.learning_rate,
                'train_grad_norm': result.grad_norm, 'train_iter_time': elapsed,
                **{f'train_{name}': value for name, value in means.items()}}
        steps_done = self.progress.batches_done // self.args.gradient_accumulation_steps
        self.logger.log((self.progress.epoch, steps_done), data, tensorboard_step=self.progress.iteration)
        if result.nonfinite:
            self.logger.info(f'warning: step {self.progress.iteration} skipped: non-finite loss or gradient '
                             f'({self.step.nonfinite_in_a_row} in a row, stopping at {self.args.max_nonfinite_steps})')
            self.step.check_nonfinite_limit()

    def after_step(self):
        """Inside an epoch: stop on a signal, or save when --iters-per-checkpoint says so (an epoch's last step is
        left to end_epoch) -> 'stopped', 'finished' (--target-val-loss reached) or 'next'."""
        if self.progress.batches_done == self.batches.batches_per_epoch():
            return 'next'
        if self.stop.requested_anywhere(self.device):
            self.save(epoch_complete=False)
            self.logger.info(f'stopped by a signal at epoch {self.progress.epoch} step {self.progress.iteration}; '
                             'continue with --resume-from-last')
            return 'stopped'
        if self.schedule.checkpoint_due_after_step(self.progress.iteration):
            return self.checkpoint_within_epoch()
        return 'next'

    def checkpoint_within_epoch(self):
        """An --iters-per-checkpoint save, after a validation where --validate-at-checkpoints asks for one ->
        'finished' when that validation reached --target-val-loss, else 'next'."""
        validated = self.schedule.validation_due_after_step(self.progress.iteration)
        if validated:
            self.validate()
        self.save(epoch_complete=False)
        return 'finished' if validated and self.target_reached() else 'next'

    def target_reached(self):
        reached = self.schedule.target_reached(self.val_loss)
        if reached:
            self.logger.info(f'validation loss {self.val_loss:.5g} reached --target-val-loss '
                             f'{self.args.target_val_loss}')
        return reached

    def end_epoch(self):
        """Log the epoch, validate and save as the schedule says -> 'finished' when the target validation loss is
        reached, 'stopped' when a signal ends the run here, else 'next'."""
        epoch, progress = self.progress.epoch, self.progress
        self.logger.log((epoch,), {'train_epoch_loss': progress.epoch_loss_sum / progress.epoch_steps,
                                   'train_epoch_items_per_sec': progress.epoch_items / progress.epoch_seconds,
                                   'train_epoch_time': progress.epoch_seconds}, tensorboard_step=progress.iteration)
        validated = self.schedule.validation_due(epoch, progress.iteration)
        if validated:
            self.validate()
        reached = validated and self.target_reached()
        stopping = self.stop.requested_anywhere(self.device)  # a signal may come during validation
        if reached or stopping or self.schedule.checkpoint_due_after_epoch(epoch, progress.iteration):
            self.save(epoch_complete=True)
        if reached:
            return 'finished'
        if stopping and not self.schedule.is_last(epoch):
            self.logger.info(f'stopped by a signal after epoch {epoch}; continue with --resume-from-last')
            return 'stopped'
        return 'next'

    def validate(self):
        start = time.perf_counter()
        self.val_loss, val_items, last = validate(unwrap(self.model), self.val_loader, self.loss_function,
                                                  self.spec.batch_to_device, self.device, self.precision)
        elapsed = time.perf_counter() - start
        self.logger.log((self.progress.epoch,), {'val_loss': self.val_loss, 'val_items_per_sec': val_items / elapsed,
                                                 'val_time': elapsed}, tensorboard_step=self.progress.iteration)
        if self.rank == 0 and self.logger.tensorboard is not None and last is not None:
            for tag, array in self.spec.validation_images(*last).items():
                self.logger.image(f'validation/{tag}', heatmap_image(array), self.progress.iteration)

    def save(self, epoch_complete):
        """A checkpoint of this moment (collective: every rank takes part; rank 0 writes it)."""
        payload = checkpoint_payload(self.spec.name, self.model, self.config, self.step.state_dict(), self.progress,
                                     self.learning_rate, self.args, epoch_complete)
        if self.rank == 0:
            iteration = None if epoch_complete else self.progress.iteration
            self.logger.info(f'saved {self.checkpoints.save(payload, self.progress.epoch, iteration)}')

    def announce(self, tf32):
        batches, k = self.batches.batches_per_epoch(), self.args.gradient_accumulation_steps
        self.logger.info(f'{self.spec.name}: {sum(p.numel() for p in self.model.parameters())} parameters, '
                         f'{self.precision.name}{" with TF32" if tf32 else ""}, {self.world_size} rank(s) on '
                         f'{self.device.type}, {len(self.train_loader.dataset)} training / '
                         f'{len(self.val_loader.dataset)} validation clips, {batches // k} steps per epoch')


def train(args, stop, cleanup):
    """The recipe: set up, restore (fresh, warm start or resume), then train."""
    setup = set_up(args, cleanup)
    check_trained_sampling_rates({'--checkpoint-path': args.checkpoint_path, '--resume-from': setup.resume_path},
                                 args.sampling_rate)
    restored = restore(args, setup.spec, models.MODELS.values(), setup.resume_path, setup.dist.rank,
                       setup.dist.world_size, setup.logger.info)
    for loader in (setup.train_loader, setup.val_loader):
        setup.spec.check_training_data(restored.model, loader.dataset.dataset)  # inside SeededItems
    trainer = Trainer(args, setup, restored, stop)
    del restored  # the weights now live in the model: free the checkpoint's copy
    trainer.announce(setup.tf32)
    restart_warning = distributed.restart_store_warning()
    if restart_warning:
        setup.logger.info(f'warning: {restart_warning}')
    with distributed.lost_ranks_reported():
        return trainer.run()


@command('train.py', expected=(NonFiniteLossError,))
def main(argv=None):
    try:
        args = parse_args(argv)
        with StopRequest() as stop, contextlib.ExitStack() as cleanup:
            return train(args, stop, cleanup)
    finally:
        stop_worker_processes()
        distributed.cleanup()


if __name__ == '__main__':
    sys.exit(main())
