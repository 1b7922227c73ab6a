"""Model registry: one table from model name to its package, and the ways to build or load a model.

Every model package (`tacotron2`, `waveglow`, `fastpitch`) exposes the same names in its `__init__.py`:
`Model`, `add_model_args`, `model_config`, `build_loss`, `get_dataset`, `get_collate_fn`, `batch_to_device`, `ITEMS`
and `STATE_DICT_MARKER` (a key prefix only its state dicts have). A package may also define
`config_from_state_dict(state_dict)` (sizes read from the tensors when a checkpoint stores no config) and
`load_weights(model, state_dict)` / `prepare_for_inference(model)` where plain loading is not enough, and for
train.py `prepare_for_training(model, args)` (e.g. statistics kept in buffers) and `validation_images(y_pred, y)`
(2-D arrays for TensorBoard).
Adding a model means one line in MODELS.
"""
import argparse

import fastpitch
import tacotron2
import waveglow
from common.checkpoint import CheckpointError, load_checkpoint, split_checkpoint, strip_module_prefix
from common.data_args import add_audio_args

MODELS = {'Tacotron2': tacotron2, 'WaveGlow': waveglow, 'FastPitch': fastpitch}


def model_package(model_name):
    try:
        return MODELS[model_name]
    except KeyError:
        raise ValueError(f'unknown model {model_name!r}; choose one of {", ".join(MODELS)}') from None


def add_model_args(model_name, parser):
    return model_package(model_name).add_model_args(parser)


def get_model_config(model_name, args):
    return model_package(model_name).model_config(args)


def default_model_config(model_name):
    """The constructor kwargs at the model's flag defaults (the reference defaults)."""
    parser = add_model_args(model_name, add_audio_args(argparse.ArgumentParser(add_help=False)))
    return get_model_config(model_name, parser.parse_args([]))


def get_model(model_name, config, device, forward_is_infer=False):
    model = model_package(model_name).Model(**config)
    if forward_is_infer:  # exported models (TorchScript, hub) are called for synthesis
        model.forward = model.infer
    return model.to(device)


def identify_state_dict(state_dict):
    """The name of the model whose parameter names this state dict has, or None."""
    for name, package in MODELS.items():
        if any(key.startswith(package.STATE_DICT_MARKER) for key in state_dict):
            return name
    return None


def load_model_from_checkpoint(model_name, path, device='cpu', allow_pickle=False):
    """An eval-mode model from any checkpoint we accept (see common/checkpoint.py: ours, the reference
    training formats with or without a stored config and with `module.` prefixes, NVIDIA/waveglow pickles behind
    allow_pickle, bare state dicts). Raises CheckpointError with a one-line message naming the file."""
    model, _ = build_model_from_checkpoint(model_name, path, allow_pickle)
    prepare = getattr(model_package(model_name), 'prepare_for_inference', None)
    if prepare:
        model = prepare(model)
    return model.to(device).eval()


def build_model_from_checkpoint(model_name, path, allow_pickle=False):
    """(model as trained, on the CPU, its config) from any checkpoint load_model_from_checkpoint accepts: the
    start of a warm start or fine-tuning, and of load_model_from_checkpoint itself."""
    package = model_package(model_name)
    state_dict, config, meta = split_checkpoint(load_checkpoint(path, allow_pickle=allow_pickle), source=path)
    state_dict = strip_module_prefix(state_dict)
    found = meta.get('model_name') or identify_state_dict(state_dict)
    if found != model_name:
        what = f'a {found} checkpoint' if found else 'no parameters of any known model'
        raise CheckpointError(f'{path}: holds {what}, not {model_name}')
    if config is None:
        config_from_state_dict = getattr(package, 'config_from_state_dict', None)
        config = config_from_state_dict(state_dict) if config_from_state_dict else default_model_config(model_name)
    try:
        model = package.Model(**config)
        load_weights = getattr(package, 'load_weights', None)
        if load_weights:
            load_weights(model, state_dict)
        else:
            model.load_state_dict(state_dict)
    except (RuntimeError, TypeError, ValueError) as error:
        details = ' '.join(str(error).split())  # one line, however many keys torch lists
        if len(details) > 300:
            details = details[:300] + '...'
        raise CheckpointError(f'{path}: does not fit a {model_name} of its config ({details})') from None
    return model, config
