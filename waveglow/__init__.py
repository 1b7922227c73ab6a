"""WaveGlow: a flow-based vocoder from mel spectrogram to audio (the names every model package exposes)."""
from .arg_parser import add_model_args, model_config
from .checkpoint_compat import config_from_state_dict, convert_nvidia_state_dict, has_weight_norm
from .data_function import batch_to_device, get_collate_fn, get_dataset
from .loss_function import WaveGlowLoss
from .model import WaveGlow as Model

ITEMS = 'audio samples'
STATE_DICT_MARKER = 'upsample.'


def build_loss(args):
    return WaveGlowLoss(sigma=args.sigma)


def load_weights(model, state_dict):
    """Training checkpoints hold weight-normed convolutions, exported ones folded weights; NVIDIA/waveglow's
    one concatenated cond_layer per flow is split into our per-layer cond_layers."""
    state_dict = convert_nvidia_state_dict(state_dict)
    if not has_weight_norm(state_dict):
        Model.remove_weightnorm(model)
    model.load_state_dict(state_dict)


def prepare_for_inference(model):
    return Model.remove_weightnorm(model)
