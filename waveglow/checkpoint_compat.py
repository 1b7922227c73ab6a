"""Reading WaveGlow state dicts that come without a usable config or in NVIDIA/waveglow's layout.

Both weight-normed (`weight_g`/`weight_v`) and folded (`weight`) state dicts are understood. Keys must already be
free of any `module.` prefix.
"""
import re

_NVIDIA_COND_KEY = re.compile(r'^(WN\.\d+)\.cond_layer\.(weight_g|weight_v|weight|bias)$')


def has_weight_norm(state_dict):
    """Whether the WN convolutions are stored weight-normed (training form) rather than folded (inference form)."""
    return any(key.endswith('.weight_g') for key in state_dict)


def _conv_weight(state_dict, prefix):
    for suffix in ('.weight_v', '.weight'):
        if prefix + suffix in state_dict:
            return state_dict[prefix + suffix]
    raise ValueError(f'WaveGlow state dict has neither {prefix}.weight nor {prefix}.weight_v')


def _count_indices(state_dict, pattern):
    indices = {int(match.group(1)) for match in map(re.compile(pattern).match, state_dict) if match}
    if indices != set(range(len(indices))):
        raise ValueError(f'WaveGlow state dict: indices of {pattern!r} are not 0..n-1: {sorted(indices)}')
    return len(indices)


def _early_outputs(flow_channels):
    """(n_early_every, n_early_size) that give the channel count of every flow (from its 1x1 convolution)."""
    drops = [k for k in range(1, len(flow_channels)) if flow_channels[k] != flow_channels[k - 1]]
    if not drops:
        return len(flow_channels), 0  # no flow emits early: any interval past the last flow does
    every = drops[0]
    size = flow_channels[every - 1] - flow_channels[every]
    expected = [flow_channels[0] - size * (k // every) for k in range(len(flow_channels))]
    if size <= 0 or flow_channels != expected:
        raise ValueError(f'WaveGlow state dict: the flows have {flow_channels} channels, which no '
                         f'n_early_every/n_early_size gives')
    return every, size


def config_from_state_dict(state_dict):
    """The WaveGlow constructor kwargs that produce a model with the shapes of this state dict."""
    if 'upsample.weight' not in state_dict:
        raise ValueError('not a WaveGlow state dict: no upsample.weight')
    n_flows = _count_indices(state_dict, r'^WN\.(\d+)\.')
    if n_flows == 0:
        raise ValueError('WaveGlow state dict has no WN.<k> flows')
    flow_channels = [_conv_weight(state_dict, f'convinv.{k}.conv').shape[0] for k in range(n_flows)]
    n_early_every, n_early_size = _early_outputs(flow_channels)
    return {
        'n_mel_channels': state_dict['upsample.weight'].shape[0],
        'n_flows': n_flows,
        'n_group': flow_channels[0],
        'n_early_every': n_early_every,
        'n_early_size': n_early_size,
        'WN_config': {
            'n_layers': _count_indices(state_dict, r'^WN\.0\.in_layers\.(\d+)\.'),
            'kernel_size': _conv_weight(state_dict, 'WN.0.in_layers.0').shape[2],
            'n_channels': _conv_weight(state_dict, 'WN.0.start').shape[0],
        },
    }


def convert_nvidia_state_dict(state_dict):
    """NVIDIA/waveglow layout -> ours: split each WN's single `cond_layer` into per-layer `cond_layers.<i>`.

    NVIDIA's cond_layer stacks the layers' conditioning convolutions along the output channels (2 * n_channels
    each, layer 0 first). Weight norm is per output channel, so weight_g, weight_v and bias split the same way.
    Keys of other layouts pass through unchanged, so an already converted state dict is returned as is.
    """
    converted = {}
    for key, tensor in state_dict.items():
        match = _NVIDIA_COND_KEY.match(key)
        if match is None:
            converted[key] = tensor
            continue
        flow, param = match.groups()
        n_layers = _count_indices(state_dict, rf'^{re.escape(flow)}\.in_layers\.(\d+)\.')
        if n_layers == 0 or tensor.shape[0] % n_layers:
            raise ValueError(f'{key}: {tensor.shape[0]} output channels do not split over {n_layers} WN layers')
        for i, part in enumerate(tensor.split(tensor.shape[0] // n_layers)):
            converted[f'{flow}.cond_layers.{i}.{param}'] = part.clone()
    return converted
