"""Models from specs and from checkpoint files of any format we accept (common/checkpoint.py reads the files).

A checkpoint's model is identified by its stored model_name, else by the parameter names only that model has
(`ModelSpec.state_dict_marker`); its size comes from its stored config, else from its tensors
(`ModelSpec.config_from_state_dict`), else from the flag defaults.
"""
from common.checkpoint import CheckpointError, split_checkpoint, strip_module_prefix

MAX_DETAILS = 300  # characters of torch's key listing kept in a one-line error


def identify_state_dict(state_dict, specs):
    """The name of the model whose parameter names this state dict has, or None."""
    for spec in specs:
        if any(key.startswith(spec.state_dict_marker) for key in state_dict):
            return spec.name
    return None


def _unwrapped_parts(checkpoint, source, specs):
    """(state dict without DDP prefixes, config or None, model name or None) of a loaded checkpoint; the name is
    its stored model_name, else that of the one of `specs` whose parameter names the state dict has."""
    state_dict, config, meta = split_checkpoint(checkpoint, source=source)
    state_dict = strip_module_prefix(state_dict)
    return state_dict, config, meta.get('model_name') or identify_state_dict(state_dict, specs)


def checkpoint_model_name(checkpoint, source, specs):
    """The name of the model a loaded checkpoint holds (see _unwrapped_parts); None if nothing says."""
    return _unwrapped_parts(checkpoint, source, specs)[2]


def model_from_checkpoint(spec, checkpoint, source, specs):
    """(model as trained, on the CPU, its config) from a loaded checkpoint object of any accepted format.
    `specs` are every known model's, to name the model a wrong file holds. Raises CheckpointError naming `source`."""
    state_dict, config, found = _unwrapped_parts(checkpoint, source, specs)
    if found != spec.name:
        what = f'a {found} checkpoint' if found else 'no parameters of any known model'
        raise CheckpointError(f'{source}: holds {what}, not {spec.name}')
    if config is None:
        config = config_of_state_dict(spec, state_dict, source)
    model = new_model(spec, config, source)
    try:
        spec.load_weights(model, state_dict)
    except (RuntimeError, TypeError, ValueError) as error:
        raise CheckpointError(f'{source}: does not fit a {spec.name} of its config ({_details(error)})') from None
    return model, config


def config_of_state_dict(spec, state_dict, source):
    """The sizes a bare state dict's tensors imply (the flag defaults for a model that cannot tell)."""
    if spec.config_from_state_dict is None:
        return spec.default_config()
    try:
        return spec.config_from_state_dict(state_dict)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:  # missing or misshapen tensors
        raise CheckpointError(f'{source}: cannot read the sizes of a {spec.name} from its tensors '
                              f'({_details(error)})') from None


def new_model(spec, config, source):
    """spec.model_class(**config); a config it cannot build is the checkpoint's error."""
    try:
        return spec.model_class(**config)
    except (RuntimeError, TypeError, ValueError) as error:
        raise CheckpointError(f'{source}: its config does not build a {spec.name} ({_details(error)})') from None


def _details(error):
    """One line, however many keys torch lists."""
    details = ' '.join(str(error).split()) or type(error).__name__
    return details if len(details) <= MAX_DETAILS else details[:MAX_DETAILS] + '...'


def ready_for_inference(spec, model, device):
    """The model as synthesis uses it: the spec's inference preparation, on `device`, in eval mode."""
    return spec.prepare_for_inference(model).to(device).eval()
