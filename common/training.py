"""The mechanics of a training step, kept apart from the recipe in train.py so that each can be read whole.

  * optimizers and the learning-rate schedules of the reference recipes (common/lr_schedules.py);
  * GradientStep, the default training step (a model spec may bring its own with the same methods): k micro-batches
    accumulate into one optimizer step (each loss scaled by 1/k, so that k batches of b behave like one batch of
    k*b), gradient clipping, and steps with a non-finite loss or gradient skipped (the fp16 scaler does that
    itself) until too many in a row stop the run; a saved optimizer state is loaded only when it fits;
  * StopRequest: SIGTERM, SIGINT or SIGHUP asks the loop to stop at the next step boundary, agreed over ranks;
  * DataLoader workers that wait for that boundary, end with their rank, and whose errors read as without workers;
  * the per-step metrics reduced over ranks in one collective, and validation over the whole validation set.
"""
import contextlib
import math
import multiprocessing
import re
import signal
from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel

from common import distributed
from common.lamb import Lamb
from common.lr_schedules import anneal_lr, exponential_decay, warmup_inverse_sqrt
from common.process_lifetime import end_with_parent

OPTIMIZERS = ('adam', 'adamw', 'lamb')


class TrainingError(ValueError):
    """Training settings that cannot work together; the message names the flag."""


class NonFiniteLossError(RuntimeError):
    """Too many optimizer steps in a row had a non-finite loss or gradient."""


def build_optimizer(name, parameters, learning_rate, weight_decay, betas, eps):
    if name == 'adam':
        # fused: one kernel updates every tensor (CPU and CUDA) instead of a Python loop over them; same update rule
        return torch.optim.Adam(parameters, lr=learning_rate, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                fused=True)
    if name == 'adamw':  # decoupled weight decay
        return torch.optim.AdamW(parameters, lr=learning_rate, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                 fused=True)
    if name == 'lamb':
        return Lamb(parameters, lr=learning_rate, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
    raise TrainingError(f'--optimizer {name!r}: choose one of {", ".join(OPTIMIZERS)}')


def learning_rate_at(args, epoch, step):
    """The reference schedules: with --warmup-steps (FastPitch) a per-step warm-up and inverse square-root decay,
    otherwise annealing by epoch at --anneal-steps (Tacotron 2, WaveGlow) and a decay by --lr-decay after every
    epoch (HiFi-GAN; 1: none). `epoch` counts from 1, `step` is the optimizer step about to be taken (from 1); anneal
    steps compare with the 0-based epoch, as the reference does."""
    if args.warmup_steps > 0:
        return warmup_inverse_sqrt(args.learning_rate, step, args.warmup_steps)
    annealed = anneal_lr(args.learning_rate, epoch - 1, args.anneal_steps, args.anneal_factor)
    return exponential_decay(annealed, epoch - 1, args.lr_decay)


def split_loss_output(output):
    """A loss function returns the loss, or (loss, dict of detached metrics) as FastPitch's does."""
    if isinstance(output, tuple):
        return output
    return output, {}


@dataclass(frozen=True)
class StepResult:
    grad_norm: float
    skipped: bool      # no parameter update (a non-finite step, or the fp16 scaler backing off)
    nonfinite: bool    # counted towards --max-nonfinite-steps


class GradientStep:
    """The default training step (ModelSpec.build_training_step): one optimizer over all parameters. The gradients
    of k micro-batches accumulate (each loss scaled by 1/k) and are then clipped and applied as one optimizer step.

    Any training step offers the same methods to train.py: set_learning_rate, accumulate, step,
    check_nonfinite_limit, state_dict and load_state_dict (its entries of the checkpoint)."""

    def __init__(self, model, loss_function, optimizer, precision, accumulation_steps, grad_clip_thresh,
                 max_nonfinite_steps):
        self.model = model
        self.loss_function = loss_function
        self.optimizer = optimizer
        self.precision = precision
        self.accumulation_steps = accumulation_steps
        self.grad_clip_thresh = grad_clip_thresh
        self.max_nonfinite_steps = max_nonfinite_steps
        self.scaler = torch.amp.GradScaler(precision.device_type, enabled=precision.uses_loss_scaling)
        self.nonfinite_in_a_row = 0

    @classmethod
    def from_args(cls, model, loss_function, args, precision):
        optimizer = build_optimizer(args.optimizer, model.parameters(), args.learning_rate, args.weight_decay,
                                    args.optimizer_betas, args.optimizer_eps)
        return cls(model, loss_function, optimizer, precision, args.gradient_accumulation_steps,
                   args.grad_clip_thresh, args.max_nonfinite_steps)

    def set_learning_rate(self, learning_rate):
        for group in self.optimizer.param_groups:
            group['lr'] = learning_rate

    def accumulate(self, x, y, last_micro_batch):
        """Forward, loss and backward of one micro-batch -> (detached loss, dict of detached metrics). DDP averages
        the gradients over ranks only on the last micro-batch of a step."""
        with self.precision.autocast():
            loss, meta = split_loss_output(self.loss_function(self.model(x), y))
        syncing = last_micro_batch or not isinstance(self.model, DistributedDataParallel)
        with contextlib.nullcontext() if syncing else self.model.no_sync():
            self.scaler.scale(loss / self.accumulation_steps).backward()
        return loss.detach(), meta

    def step(self, loss_value):
        """Clip and apply the accumulated gradient. `loss_value` is the step's loss reduced over ranks, so every
        rank takes the same decision."""
        self.scaler.unscale_(self.optimizer)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip_thresh))
        if self.scaler.is_enabled():
            # the scaler skips steps with inf/nan gradients and lowers its scale: routine in fp16, so only a
            # non-finite loss (which no scale can fix) counts towards stopping
            scale = self.scaler.get_scale()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            skipped = self.scaler.get_scale() < scale
            counts = not math.isfinite(loss_value)
        else:
            skipped = counts = not (math.isfinite(loss_value) and math.isfinite(grad_norm))
            if not skipped:
                self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.nonfinite_in_a_row = self.nonfinite_in_a_row + 1 if counts else 0
        return StepResult(grad_norm, skipped, counts)

    def check_nonfinite_limit(self):
        """Raise NonFiniteLossError once --max-nonfinite-steps steps in a row were non-finite (called after the
        step has been logged)."""
        if self.nonfinite_in_a_row >= self.max_nonfinite_steps:
            raise NonFiniteLossError(f'{self.nonfinite_in_a_row} optimizer steps in a row had a non-finite loss or '
                                     'gradient; stopping. Lower --learning-rate or check the data')

    def state_dict(self):
        """Its entries of a checkpoint, under the reference's key names."""
        return {'optimizer': self.optimizer.state_dict(), 'scaler': self.scaler.state_dict()}

    def load_state_dict(self, state, source, warn):
        """Take what fits of a checkpoint's entries: the optimizer state when it fits these parameters (else a
        warning), the scaler state when this run scales its loss."""
        if 'optimizer' in state:
            problem = optimizer_state_mismatch(self.optimizer, state['optimizer'])
            if problem:
                warn(f'optimizer state of {source} not loaded: {problem}')
            else:
                self.optimizer.load_state_dict(state['optimizer'])
                match_parameter_layout(self.optimizer)
        if self.scaler.is_enabled() and state.get('scaler'):
            self.scaler.load_state_dict(state['scaler'])


GROUP_KEYS_ADDED_BY_STEPS = {'step', 'initial_lr'}  # LAMB counts steps per group; torch schedulers add initial_lr


def optimizer_state_mismatch(optimizer, state):
    """Why a saved optimizer state does not fit `optimizer` (another optimizer type, other parameters), or None."""
    try:
        saved_groups, saved_state = state['param_groups'], state['state']
    except (KeyError, TypeError):
        return 'it is not an optimizer state'
    if len(saved_groups) != len(optimizer.param_groups):
        return 'it has another number of parameter groups'
    for saved, group in zip(saved_groups, optimizer.param_groups):
        if set(saved) - GROUP_KEYS_ADDED_BY_STEPS != set(group) - GROUP_KEYS_ADDED_BY_STEPS:
            return 'it comes from another optimizer'
        if len(saved['params']) != len(group['params']):
            return 'it covers another number of parameters'
    parameters = [parameter for group in optimizer.param_groups for parameter in group['params']]
    for index, values in saved_state.items():
        for value in values.values():
            if torch.is_tensor(value) and value.dim() > 0 and value.shape != parameters[index].shape:
                return f'its state of parameter {index} has shape {tuple(value.shape)}, not ' \
                       f'{tuple(parameters[index].shape)}'
    return None


class StepMetrics:
    """The sums of one optimizer step's micro-batches: loss and named metrics (each divided by the micro-batches
    per step) and items, reduced over ranks in one collective at the step boundary."""

    def __init__(self, device, accumulation_steps):
        self.accumulation_steps = accumulation_steps
        self.sums = {'loss': torch.zeros((), device=device), 'items': torch.zeros((), device=device)}

    def add(self, loss, meta, num_items):
        self.sums['loss'] += loss.float() / self.accumulation_steps
        self.sums['items'] += num_items
        for name, value in meta.items():
            if name != 'loss':
                self.sums[name] = self.sums.get(name, 0) + value.float() / self.accumulation_steps

    def reduced(self, world_size):
        """(loss and metrics averaged over ranks, items summed over ranks)."""
        sums = reduce_sums(self.sums)
        items = sums.pop('items')
        return {name: value / world_size for name, value in sums.items()}, items


def match_parameter_layout(optimizer):
    """Give each loaded state tensor its parameter's memory layout. A state saved from contiguous parameters (the
    reference's) keeps its strides when loaded, while some of our parameters are channels-last views; the fused
    Adam kernel walks a state tensor's memory beside its parameter's and would pair the wrong elements."""
    for parameter, state in optimizer.state.items():
        for name, value in state.items():
            if torch.is_tensor(value) and value.shape == parameter.shape and value.stride() != parameter.stride():
                state[name] = torch.empty_like(parameter, dtype=value.dtype).copy_(value)


def reduce_sums(values):
    """Sum each 0-d tensor of `values` (a dict) over ranks in one collective -> dict of floats."""
    stacked = torch.stack([value.detach().float() for value in values.values()])
    return dict(zip(values, distributed.all_reduce_sum(stacked).tolist()))


class StopRequest:
    """SIGTERM, SIGINT or SIGHUP sets a flag that the loop reads at the next step boundary (it then saves and
    exits); a second SIGTERM or SIGINT gets the default behaviour, i.e. stops at once. SIGHUP says the launcher is
    gone (a closed terminal, or the kernel's notice to a rank whose launcher died, which comes once per thread the
    launcher had): repeats of it change nothing."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

    def __init__(self):
        self.received = None
        self._previous = {}

    def _handle(self, signum, frame):
        self.received = signal.Signals(signum).name
        if signum != signal.SIGHUP:
            signal.signal(signum, signal.SIG_DFL)

    def __enter__(self):
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def requested_anywhere(self, device):
        """Whether any rank got a signal (a collective: every rank asks at the same boundary, so all of them stop
        there together)."""
        flag = torch.tensor(float(self.received is not None), device=device)
        return distributed.all_reduce_sum(flag).item() > 0


def prepare_worker(worker_id):
    """worker_init_fn of every DataLoader. Workers share their rank's process group, so a Ctrl-C or a launcher's
    SIGTERM reaches them too: they keep serving batches until the rank reaches its step boundary and saves. Ignoring
    those signals, they must end with their rank by other means: the kernel kills them when the rank ends, however it
    ends, and stop_worker_processes when the rank exits on an error."""
    for signum in StopRequest.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    end_with_parent(signal.SIGKILL)


def loaded_batches(loader):
    """Iterate a DataLoader; an error in a worker is raised as it would be without workers (its own type and
    message), not as the worker's whole traceback, which would hide the file and line the message names."""
    iterator = iter(loader)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except Exception as error:
            original = worker_error(error)
            if original is None:
                raise
            raise original from None
        yield batch


TRACEBACK_HEADER = 'Traceback (most recent call last):'
WORKER_ERROR = re.compile(r'Caught \w+ in DataLoader worker process \d+\.\nOriginal Traceback')


def worker_error(error):
    """The error a DataLoader worker raised, rebuilt from the text its traceback reached this process in (an
    exception of the same type whose message is the original one), or None for any other error."""
    text = str(error)
    if not WORKER_ERROR.match(text):
        return None
    lines = text.splitlines()
    last_traceback = max(index for index, line in enumerate(lines) if line.endswith(TRACEBACK_HEADER))
    # the frames are indented; the exception's line ("package.Name: message") and its continuation lines are not
    body = lines[last_traceback + 1:]
    first = next((index for index, line in enumerate(body) if line and not line[0].isspace()), len(body))
    message = '\n'.join(body[first:])
    message = re.sub(r'^[\w.]+(: |$)', '', message, count=1)  # the exception's qualified name
    try:
        return type(error)(message)
    except Exception:  # a type that takes other arguments
        return RuntimeError(message)


def stop_worker_processes():
    """Kill this process's DataLoader workers at the end of the run. Ignoring SIGTERM, they outlive the SIGTERM with
    which Python's exit ends daemonic children, and the exit would then wait for them for ever (after an error in a
    worker or in the loop, say); the run is over, so nothing of theirs is lost. The DataLoader's SIGCHLD handler,
    which reports a worker killed under a live iterator as an error, is first put back to the default."""
    children = multiprocessing.active_children()
    if not children:
        return
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for child in children:
        child.kill()
    for child in children:
        child.join()


@torch.no_grad()
def validate(model, loader, loss_function, batch_to_device, device, precision):
    """Loss over the whole validation set, weighted by items (mel frames or samples) and summed over ranks.

    Runs under a forked RNG: validation draws random numbers (Tacotron 2's prenet dropout is always on) but must not
    shift the training stream, so that a run's losses do not depend on when it validated or was resumed.
    Returns (loss, items, (model output, targets) of the last batch or None on a rank without batches).
    """
    was_training = model.training
    model.eval()
    totals = {'loss': torch.zeros((), device=device), 'items': torch.zeros((), device=device)}
    last = None
    cuda_devices = [device] if device.type == 'cuda' else []
    with torch.random.fork_rng(devices=cuda_devices):
        for batch in loaded_batches(loader):
            x, y, num_items = batch_to_device(batch, device)
            with precision.autocast():
                y_pred = model(x)
                loss, _ = split_loss_output(loss_function(y_pred, y))
            totals['loss'] += loss.float() * num_items
            totals['items'] += num_items
            last = (y_pred, y)
    model.train(was_training)
    sums = reduce_sums(totals)
    return sums['loss'] / max(sums['items'], 1), sums['items'], last
