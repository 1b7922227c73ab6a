"""The one table of models: name -> spec (common/model_spec.py), and building or loading a model by name.

Adding a model is one package that exports SPEC and one entry in MODELS.
"""
import fastpitch
import hifigan
import tacotron2
import waveglow
from common import model_loading
from common.checkpoint import load_checkpoint

MODELS = {spec.name: spec for spec in (tacotron2.SPEC, waveglow.SPEC, fastpitch.SPEC, hifigan.SPEC)}


def model_spec(model_name):
    try:
        return MODELS[model_name]
    except KeyError:
        raise ValueError(f'unknown model {model_name!r}; choose one of {", ".join(MODELS)}') from None


def specs_of_role(role):
    return [spec for spec in MODELS.values() if spec.role == role]


def upstream_train_args(argv):
    """Our train.py arguments for the command line of a model's original repository (NVIDIA/tacotron2's,
    NVIDIA/waveglow's), told apart by its flags; None for any other command line."""
    for spec in MODELS.values():
        translated = spec.upstream_train_args(argv) if spec.upstream_train_args else None
        if translated is not None:
            return translated
    return None


def default_model_config(model_name):
    """The constructor kwargs at the model's flag defaults (the reference defaults)."""
    return model_spec(model_name).default_config()


def get_model(model_name, config, device):
    return model_spec(model_name).model_class(**config).to(device)


def model_from_checkpoint(model_name, checkpoint, source):
    """(model as trained, on the CPU, its config) from an already loaded checkpoint object (see
    common/model_loading.py): the start of a warm start, of fine-tuning and of load_model_from_checkpoint."""
    return model_loading.model_from_checkpoint(model_spec(model_name), checkpoint, source, MODELS.values())


def build_model_from_checkpoint(model_name, path, allow_pickle=False):
    """(model as trained, on the CPU, its config) from a checkpoint file of any accepted format."""
    return model_from_checkpoint(model_name, load_checkpoint(path, allow_pickle=allow_pickle), path)


def load_model_from_checkpoint(model_name, path, device='cpu', allow_pickle=False):
    """An eval-mode model ready for synthesis from any checkpoint we accept (see common/checkpoint.py: ours, the
    reference training formats with or without a stored config and with `module.` prefixes, NVIDIA/waveglow pickles
    behind allow_pickle, bare state dicts). Raises CheckpointError with a one-line message naming the file."""
    model, _ = build_model_from_checkpoint(model_name, path, allow_pickle)
    return model_loading.ready_for_inference(model_spec(model_name), model, device)
