"""NVIDIA's torch.hub entry point nvidia_waveglow (common/upstream_hub.py): NGC's 19.09.0 checkpoints."""
from common.upstream_hub import NGC, HubEntry

HUB = HubEntry(checkpoint_urls={
    'fp32': f'{NGC}/waveglow_ckpt_fp32/versions/19.09.0/files/nvidia_waveglowpyt_fp32_20190427',
    'fp16': f'{NGC}/waveglow_ckpt_amp/versions/19.09.0/files/nvidia_waveglowpyt_fp16_20190427',
})
