"""The one way a training run gets its model and state: fresh from the flags, warm-started from any accepted
checkpoint (--checkpoint-path: weights, and of the file's other entries, such as optimizer states or a GAN's
discriminators, what fits the training step), or resumed exactly from one of its own checkpoints
(--resume-from-last). The file is read once."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from common.checkpoint import CheckpointError, load_checkpoint, split_checkpoint, strip_module_prefix
from common.model_loading import model_from_checkpoint
from common.training_state import Progress, read_training_checkpoint, resume_progress


@dataclass
class Restored:
    model: nn.Module              # on the CPU, in train mode, prepared for training by its spec
    config: dict                  # the constructor kwargs, saved with every checkpoint
    step_state: dict = field(default_factory=dict)  # checkpoint entries for the training step (optimizer, ...)
    progress: Progress = field(default_factory=Progress)
    source: Optional[Path] = None  # the checkpoint it came from


def restore(args, spec, known_specs, resume_path, rank, world_size, log):
    """The Restored run for the flags; `resume_path` is the run's own checkpoint to continue (or None); `log` takes
    one-line messages. Resuming also restores this rank's random generators."""
    if resume_path is not None:
        restored = _resume(args, spec, resume_path, rank, world_size, log)
    elif args.checkpoint_path:
        restored = _warm_start(args, spec, known_specs, log)
    else:
        restored = _fresh(args, spec)
    spec.prepare_for_training(restored.model, args)
    restored.model.train()
    return restored


def _fresh(args, spec):
    config = spec.model_config(args)
    model = spec.model_class(**config)
    if not args.disable_uniform_initialize_bn_weight:
        uniform_initialize_bn_weights(model)
    return Restored(model, config)


def _warm_start(args, spec, known_specs, log):
    path = args.checkpoint_path
    checkpoint = load_checkpoint(path, allow_pickle=args.allow_pickle)
    if args.warm_start_skip:
        return _warm_start_skipping(args, spec, checkpoint, path, log)
    model, config = model_from_checkpoint(spec, checkpoint, path, known_specs)
    log(f'warm start from {path} (its model config; the model flags are not used)')
    return Restored(model, config, _training_entries(checkpoint), source=Path(path))


def _warm_start_skipping(args, spec, checkpoint, path, log):
    """NVIDIA/tacotron2's warm start: the model of the flags, every weight of the file but the skipped keys (which
    keep their fresh values, so they may differ in size, e.g. another symbol set's embedding), a fresh optimizer."""
    restored = _fresh(args, spec)
    weights = strip_module_prefix(split_checkpoint(checkpoint, source=path)[0])
    state = restored.model.state_dict()
    unknown = sorted(set(weights) - set(state) - set(args.warm_start_skip))
    missing = sorted(set(state) - set(weights) - set(args.warm_start_skip))
    if unknown or missing:
        problem = f'unexpected key {unknown[0]}' if unknown else f'no key {missing[0]}'
        raise CheckpointError(f'{path}: does not fit a {spec.name} of these flags ({problem})')
    state.update({key: value for key, value in weights.items() if key not in args.warm_start_skip})
    try:
        restored.model.load_state_dict(state)
    except RuntimeError as error:
        raise CheckpointError(f'{path}: does not fit a {spec.name} of these flags '
                              f'({" ".join(str(error).split())[:300]})') from None
    log(f'warm start from {path}: every weight but {", ".join(args.warm_start_skip)}, a fresh optimizer')
    return Restored(restored.model, restored.config, source=Path(path))


def _training_entries(checkpoint):
    """What a warm start offers the training step besides the model: the file's other entries (optimizer and
    scaler states, a GAN's discriminators); the step takes those that fit."""
    if not isinstance(checkpoint, dict):
        return {}
    return {key: value for key, value in checkpoint.items()
            if key not in ('state_dict', 'generator', 'config', 'model') and not torch.is_tensor(value)}


def _resume(args, spec, path, rank, world_size, log):
    checkpoint = read_training_checkpoint(path, spec.name)
    model = spec.model_class(**checkpoint['config'])
    model.load_state_dict(checkpoint['state_dict'])
    progress = resume_progress(checkpoint, args, rank, world_size, warn=lambda text: log(f'warning: {text}'))
    log(f'resuming from {path}: epoch {progress.epoch}, batch {progress.batches_done}, step {progress.iteration}')
    return Restored(model, checkpoint['config'], checkpoint, progress, Path(path))


def uniform_initialize_bn_weights(model):
    """The reference train.py starts BatchNorm scales at U(0, 1) draws rather than ones (Tacotron 2's encoder and
    postnet; the other models have no BatchNorm)."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine:
            torch.nn.init.uniform_(module.weight)
