"""NVIDIA's torch.hub entry point nvidia_hifigan (common/upstream_hub.py): (generator, train setup, denoiser), the
generator fine-tuned on FastPitch's mels (NGC 21.08.0), halved for fp16."""
from common.upstream_hub import NGC, HubEntry

from .synthesis import hifigan_denoiser

_URL = (f'{NGC}/dle/hifigan__pyt_ckpt_mode-finetune_ds-ljs22khz/versions/21.08.0_amp/files/'
        'hifigan_gen_checkpoint_10000_ft.pt')


def _with_train_setup_and_denoiser(model, train_setup):
    return model, train_setup, hifigan_denoiser(model)


HUB = HubEntry(checkpoint_urls={'fp32': _URL, 'fp16': _URL}, returns=_with_train_setup_and_denoiser,
               halve_for_fp16=True)
