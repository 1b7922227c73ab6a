"""torch.hub entry points, one per model of the table in models.py: nvidia_<name in lower case>.

    import torch
    fastpitch = torch.hub.load('/path/to/this/repo', 'nvidia_fastpitch', source='local', checkpoint='FastPitch.pt')
    waveglow = torch.hub.load('/path/to/this/repo', 'nvidia_waveglow', source='local',
                              WN_config={'n_channels': 256})   # a fresh model, default config with one change

Each entry point either builds the model from its default configuration (the reference's flag defaults, or those
of flags=[...], model flags as train.py takes them, e.g. nvidia_fastpitch(flags=['--fastpitch-version', '1.1']); keyword
arguments replace config entries, and a dict such as WN_config is merged key by key) or, with checkpoint=PATH,
loads any checkpoint that models.load_model_from_checkpoint reads (its size comes from the file). Models come back
in eval mode on `device`, with forward() doing synthesis (forward is infer), as exported models are called.

Nothing is downloaded: NVIDIA's pretrained checkpoints live on NGC (https://catalog.ngc.nvidia.com, the models'
PyTorch checkpoints), which this project cannot reach. Download one yourself and pass its path; the pickled files
of NVIDIA's original repositories also need allow_pickle=True (only for files you trust).
"""
import models

dependencies = ['torch', 'numpy', 'scipy', 'librosa', 'inflect', 'unidecode']


def _hub_model(model_name, pretrained, checkpoint, allow_pickle, device, flags, overrides):
    if pretrained:
        raise ValueError(f'{model_name}: pretrained=True would download NVIDIA\'s checkpoint from NGC, which is not '
                         'reachable here; download it yourself and pass checkpoint=PATH')
    if checkpoint is not None:
        if overrides or flags:
            given = sorted(overrides) + (['flags'] if flags else [])
            raise ValueError(f'{model_name}: the size comes from the checkpoint; drop {", ".join(given)} '
                             'or leave out checkpoint=')
        model = models.load_model_from_checkpoint(model_name, checkpoint, device, allow_pickle=allow_pickle)
    else:
        config = _with_overrides(model_name, models.model_spec(model_name).default_config(flags), overrides)
        model = models.get_model(model_name, config, device).eval()
    model.forward = model.infer
    return model


def _with_overrides(model_name, config, overrides):
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(f'{model_name} has no config entry {", ".join(unknown)}; it has: {", ".join(config)}')
    for key, value in overrides.items():
        if isinstance(config[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f'{model_name}: {key} takes a dict of {", ".join(config[key])}, got {value!r}')
            config[key] = _with_overrides(f'{model_name} {key}', dict(config[key]), value)
        else:
            config[key] = value
    return config


def _entry_point(spec):
    def entry_point(pretrained=False, checkpoint=None, allow_pickle=False, device='cpu', flags=(), **config):
        return _hub_model(spec.name, pretrained, checkpoint, allow_pickle, device, flags, config)
    entry_point.__name__ = f'nvidia_{spec.cli_name}'
    entry_point.__doc__ = (f'{spec.name} ({spec.role}), fresh or from checkpoint=PATH; forward() synthesizes as its '
                           f'infer() does. See the module docstring.')
    return entry_point


for _spec in models.MODELS.values():
    globals()[f'nvidia_{_spec.cli_name}'] = _entry_point(_spec)
