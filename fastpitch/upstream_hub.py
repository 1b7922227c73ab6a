"""NVIDIA's torch.hub entry point nvidia_fastpitch (common/upstream_hub.py): (model, train setup), NGC's 21.12.1
checkpoint for both model maths, halved for fp16."""
from common.upstream_hub import NGC, HubEntry

_URL = f'{NGC}/dle/fastpitch__pyt_ckpt/versions/21.12.1_amp/files/nvidia_fastpitch_210824+cfg.pt'


def _model_and_train_setup(model, train_setup):
    return model, train_setup


HUB = HubEntry(checkpoint_urls={'fp32': _URL, 'fp16': _URL}, returns=_model_and_train_setup, halve_for_fp16=True)
