"""NVIDIA's torch.hub entry point nvidia_tacotron2 (common/upstream_hub.py): NGC's 19.09.0 checkpoints."""
from common.upstream_hub import NGC, HubEntry

HUB = HubEntry(checkpoint_urls={
    'fp32': f'{NGC}/tacotron2_pyt_ckpt_fp32/versions/19.09.0/files/nvidia_tacotron2pyt_fp32_20190427',
    'fp16': f'{NGC}/tacotron2_pyt_ckpt_amp/versions/19.09.0/files/nvidia_tacotron2pyt_fp16_20190427',
})
