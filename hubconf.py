"""torch.hub entry points as NVIDIA publishes them (DeepLearningExamples' hubconf), one per model of models.py:
nvidia_<name in lower case>, plus nvidia_tts_utils and nvidia_textprocessing_utils.

    tacotron2 = torch.hub.load(REPO, 'nvidia_tacotron2', source='local', model_math='fp16', checkpoint=PATH)
    waveglow = torch.hub.load(REPO, 'nvidia_waveglow', source='local', model_math='fp16', checkpoint=PATH)
    waveglow = waveglow.remove_weightnorm(waveglow)
    utils = torch.hub.load(REPO, 'nvidia_tts_utils', source='local')
    sequences, lengths = utils.prepare_input_sequence(["Hello world."])
    fastpitch, generator_train_setup = torch.hub.load(REPO, 'nvidia_fastpitch', source='local', checkpoint=PATH)
    hifigan, vocoder_train_setup, denoiser = torch.hub.load(REPO, 'nvidia_hifigan', source='local', checkpoint=PATH)

Each model entry point returns what NVIDIA's does (the model; FastPitch with its train setup; HiFi-GAN with its
train setup and denoiser: the model package's common.upstream_hub.HubEntry), the model in eval mode on `device`,
forward() doing synthesis (forward is infer). Where the model comes from:
  * checkpoint=PATH: any checkpoint models.load_model_from_checkpoint reads (its size comes from the file; NVIDIA's
    pickled files also need allow_pickle=True, trusted files only);
  * pretrained=True (the default, as NVIDIA's): NVIDIA's published checkpoint for model_math ('fp32' or 'fp16'),
    downloaded once into torch.hub's cache (<torch.hub.get_dir()>/checkpoints; force_reload=True fetches it again).
    Without a network the error names the URL and the cache path: download the file elsewhere and pass
    checkpoint=PATH, or copy it to that path;
  * pretrained=False: a fresh model of the default configuration (the reference's flag defaults, or those of
    flags=[...], model flags as train.py takes them; keyword arguments replace config entries, and a dict such as
    WN_config is merged key by key).
model_math='fp16' picks the fp16-trained file and, as NVIDIA's entry points do for FastPitch and HiFi-GAN, halves
those two models.
"""
import urllib.error
from pathlib import Path

import torch

import models
from common.checkpoint import load_checkpoint
from common.model_loading import ready_for_inference
from common.upstream_hub import MODEL_MATHS, FastPitchTextUtils, Tacotron2TextUtils

dependencies = ['torch', 'numpy', 'scipy', 'librosa', 'inflect', 'unidecode']


class HubDownloadError(ValueError):
    """pretrained=True where NVIDIA's checkpoint cannot be downloaded; the message says what to do instead."""


def _hub_model(spec, pretrained, checkpoint, allow_pickle, device, flags, overrides, model_math, force_reload):
    if model_math not in MODEL_MATHS:
        raise ValueError(f'{spec.name}: model_math={model_math!r}; choose one of {", ".join(MODEL_MATHS)}')
    if checkpoint is None and pretrained:
        if overrides or flags:
            raise ValueError(f'{spec.name}: {", ".join(sorted(overrides) or ["flags"])} build a fresh model: pass '
                             'pretrained=False with them')
        checkpoint = download_checkpoint(spec, model_math, force_reload)
    if checkpoint is not None:
        if overrides or flags:
            given = sorted(overrides) + (['flags'] if flags else [])
            raise ValueError(f'{spec.name}: the size comes from the checkpoint; drop {", ".join(given)} '
                             'or leave out checkpoint=')
        loaded = load_checkpoint(checkpoint, allow_pickle=allow_pickle)
        model, _ = models.model_from_checkpoint(spec.name, loaded, checkpoint)
        model = ready_for_inference(spec, model, device)
        train_setup = dict(loaded.get('train_setup') or {}) if isinstance(loaded, dict) else {}
    else:
        config = _with_overrides(spec.name, spec.default_config(flags), overrides)
        model, train_setup = models.get_model(spec.name, config, device).eval(), {}
    if model_math == 'fp16' and spec.hub.halve_for_fp16:
        model.half()
    model.forward = model.infer
    return spec.hub.returns(model, train_setup)


def download_checkpoint(spec, model_math, force_reload=False):
    """NVIDIA's published checkpoint of this model in torch.hub's cache, downloaded if it is not there yet."""
    url = spec.hub.checkpoint_urls[model_math]
    path = Path(torch.hub.get_dir()) / 'checkpoints' / url.rsplit('/', 1)[1]
    if path.is_file() and not force_reload:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(path))
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, 'reason', None) or error
        raise HubDownloadError(f'{spec.name}: pretrained=True could not download {url} ({reason}); where there is no '
                               f'network, download that file elsewhere and pass checkpoint=PATH, or copy it to '
                               f'{path}') from None
    return path


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
    def entry_point(pretrained=True, checkpoint=None, allow_pickle=False, device='cpu', flags=(), model_math='fp32',
                    force_reload=False, **config):
        return _hub_model(spec, pretrained, checkpoint, allow_pickle, device, flags, config, model_math,
                          force_reload)
    entry_point.__name__ = f'nvidia_{spec.cli_name}'
    entry_point.__doc__ = (f'{spec.name} ({spec.role}): NVIDIA\'s checkpoint, checkpoint=PATH or a fresh model '
                           '(pretrained=False); forward() synthesizes as its infer() does. See the module docstring.')
    return entry_point


for _spec in models.MODELS.values():
    globals()[f'nvidia_{_spec.cli_name}'] = _entry_point(_spec)


def nvidia_tts_utils():
    """Text to padded symbol ids for Tacotron 2: prepare_input_sequence(texts, cpu_run=False)."""
    return Tacotron2TextUtils()


def nvidia_textprocessing_utils(cmudict_path=None, heteronyms_path=None, **kwargs):
    """Text to batches for FastPitch 1.1: prepare_input_sequence(texts, batch_size=1, device='cpu') (the bundled
    CMUdict and heteronyms where no paths are given)."""
    return FastPitchTextUtils(cmudict_path, heteronyms_path)
