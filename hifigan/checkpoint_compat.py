"""HiFi-GAN generator state dicts of every layout, and the sizes of one that comes without a config.

Layouts: ours and NVIDIA DeepLearningExamples' (the same names: `resblocks.<stage>.<kernel>.*`), jik876/hifi-gan's
(one flat list, `resblocks.<stage * n_kernels + kernel>.*`), each weight-normed (training) or folded (exported).
common/checkpoint.py finds the state dict in a file (`state_dict` of ours, `generator` of DLE's and jik876's files)
and removes `module.` prefixes first. The sizes come from the tensors, the residual blocks' kernel order included
(the published V1 order is 3, 7, 11; DLE HEAD's parser default 11, 7, 3): a file's config that contradicts its
tensors is an error rather than a silent misfit.

DLE trains with two files per checkpoint (generator; discriminators and optimizers); `training_checkpoint_from_dle`
merges such a pair into one checkpoint of ours for `train.py --checkpoint-path`:

    python -m hifigan.checkpoint_compat hifigan_gen_checkpoint_N.pt hifigan_discrim_checkpoint_N.pt merged.pt
"""
import argparse
import re
import sys

from common.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, strip_module_prefix

_FLAT_RESBLOCK_KEY = re.compile(r'^resblocks\.(\d+)\.(convs[12]?\.\d+\..+)$')
_STAGE_KEY = re.compile(r'^ups\.(\d+)\.')
_KERNEL_KEY = re.compile(r'^resblocks\.0\.(\d+)\.')
# What the tensors cannot say: the published configs' dilations (V1/V2 for resblock 1, V3 for resblock 2)
PUBLISHED_DILATIONS = {'1': [[1, 3, 5]] * 3, '2': [[1, 2], [2, 6], [3, 12]]}
# Entries of DLE's discriminator file that our training step keeps under the same names
DLE_TRAINING_ENTRIES = ('mpd', 'msd', 'optim_g', 'optim_d', 'scaler_g', 'scaler_d')


def has_weight_norm(state_dict):
    return any(key.endswith('.weight_g') for key in state_dict)


def _count(state_dict, pattern):
    indices = {int(match.group(1)) for match in map(pattern.match, state_dict) if match}
    if indices != set(range(len(indices))):
        raise ValueError(f'HiFi-GAN state dict: indices of {pattern.pattern!r} are not 0..n-1: {sorted(indices)}')
    return len(indices)


def to_stage_layout(state_dict):
    """jik876's flat `resblocks.N.*` keys -> ours, `resblocks.{N // n_kernels}.{N % n_kernels}.*`, with n_kernels =
    blocks / upsampling stages (the reference assumes 3). Other keys, and state dicts already in our layout, pass
    through unchanged."""
    flat = [_FLAT_RESBLOCK_KEY.match(key) for key in state_dict]
    if not any(flat):
        return state_dict
    n_blocks = len({int(match.group(1)) for match in flat if match})
    n_stages = _count(state_dict, _STAGE_KEY)
    if n_stages == 0 or n_blocks % n_stages:
        raise ValueError(f'HiFi-GAN state dict: {n_blocks} residual blocks do not divide over {n_stages} '
                         'upsampling stages')
    n_kernels = n_blocks // n_stages
    converted = {}
    for (key, tensor), match in zip(state_dict.items(), flat):
        if match:
            block = int(match.group(1))
            key = f'resblocks.{block // n_kernels}.{block % n_kernels}.{match.group(2)}'
        converted[key] = tensor
    return converted


def _conv_weight(state_dict, prefix):
    for suffix in ('.weight_v', '.weight'):
        if prefix + suffix in state_dict:
            return state_dict[prefix + suffix]
    raise ValueError(f'HiFi-GAN state dict has neither {prefix}.weight nor {prefix}.weight_v')


def resblock_type(state_dict):
    return '1' if any(key.startswith('resblocks.0.0.convs1.') for key in state_dict) else '2'


def resblock_kernel_sizes(state_dict):
    """Kernel sizes of the first stage's residual blocks, in their order (stage layout)."""
    first_conv = 'convs1.0' if resblock_type(state_dict) == '1' else 'convs.0'
    return [_conv_weight(state_dict, f'resblocks.0.{k}.{first_conv}').shape[2]
            for k in range(_count(state_dict, _KERNEL_KEY))]


def config_from_state_dict(state_dict):
    """The Generator constructor kwargs that produce a model with the shapes of this state dict (any layout).

    Not stored in the tensors, and taken from the published configs: each upsampling rate is half its kernel size
    (V1: kernels 16 16 4 4, rates 8 8 2 2; V3: 16 16 8, 8 8 4), and the dilations (PUBLISHED_DILATIONS)."""
    state_dict = to_stage_layout(state_dict)
    if not any(key.startswith('conv_pre.') for key in state_dict):
        raise ValueError('not a HiFi-GAN generator state dict: no conv_pre')
    conv_pre = _conv_weight(state_dict, 'conv_pre')
    upsample_kernels = [_conv_weight(state_dict, f'ups.{i}').shape[2] for i in range(_count(state_dict, _STAGE_KEY))]
    resblock = resblock_type(state_dict)
    kernel_sizes = resblock_kernel_sizes(state_dict)
    dilations = PUBLISHED_DILATIONS[resblock]
    if resblock == '1':
        dilations = dilations[:1] * len(kernel_sizes)
    elif len(kernel_sizes) != len(dilations):
        raise ValueError(f'HiFi-GAN state dict: resblock 2 with {len(kernel_sizes)} kernels has no published '
                         'dilations (they are not stored in the tensors); load it from a file with its config')
    return {
        'upsample_rates': [kernel // 2 for kernel in upsample_kernels],
        'upsample_kernel_sizes': upsample_kernels,
        'upsample_initial_channel': conv_pre.shape[0],
        'resblock': resblock,
        'resblock_kernel_sizes': kernel_sizes,
        'resblock_dilation_sizes': dilations,
        'n_mel_channels': conv_pre.shape[1],
    }


def _with_model_shapes(state_dict, expected):
    """Tensors that differ from the model's by one trailing axis of size 1 reshaped, as the reference loader does
    (older weight-norm magnitudes)."""
    fitted = {}
    for key, tensor in state_dict.items():
        shape = expected.get(key)
        if shape is not None and tensor.shape != shape and tensor.numel() == shape.numel() \
                and abs(tensor.dim() - len(shape)) == 1:
            tensor = tensor.reshape(shape)
        fitted[key] = tensor
    return fitted


def load_generator_weights(generator, state_dict):
    """Any generator state dict (ours, DLE's, jik876's; weight-normed or folded) into `generator` strictly; folded
    weights fold the generator's weight norm first. ValueError when its residual kernels contradict the config."""
    state_dict = to_stage_layout(state_dict)
    expected_kernels = [block.convolutions()[0].kernel_size[0] for block in generator.resblocks[0]]
    found = resblock_kernel_sizes(state_dict)
    if found != expected_kernels:
        raise ValueError(f'its residual blocks have kernel sizes {found} but its config says {expected_kernels} '
                         '(the order, 3 7 11 or 11 7 3, is read from the tensors)')
    if not has_weight_norm(state_dict):
        generator.remove_weight_norm()
    expected = {key: value.shape for key, value in generator.state_dict().items()}
    generator.load_state_dict(_with_model_shapes(state_dict, expected))


def training_checkpoint_from_dle(generator_checkpoint, discriminator_checkpoint, generator_source='generator file',
                                 discriminator_source='discriminator file'):
    """One checkpoint of ours (generator weights and config, discriminators, both optimizers and scalers) from
    DLE's two loaded files; train.py --checkpoint-path then fine-tunes from it with everything that fits."""
    if not isinstance(generator_checkpoint, dict) or 'generator' not in generator_checkpoint:
        raise CheckpointError(f'{generator_source}: not a DLE HiFi-GAN generator file (no generator entry)')
    if not isinstance(discriminator_checkpoint, dict) or not {'mpd', 'msd'} <= set(discriminator_checkpoint):
        raise CheckpointError(f'{discriminator_source}: not a DLE HiFi-GAN discriminator file (no mpd, msd entries)')
    config = generator_checkpoint.get('config') or config_from_state_dict(
        strip_module_prefix(generator_checkpoint['generator']))
    merged = {'model_name': 'HiFiGAN', 'config': config, 'state_dict': generator_checkpoint['generator']}
    merged.update({key: discriminator_checkpoint[key] for key in DLE_TRAINING_ENTRIES
                   if discriminator_checkpoint.get(key) is not None})
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m hifigan.checkpoint_compat',
                                     description='Merge DLE HiFi-GAN generator and discriminator files into one '
                                                 'checkpoint for train.py --checkpoint-path')
    parser.add_argument('generator', help='hifigan_gen_checkpoint_<epoch>.pt')
    parser.add_argument('discriminators', help='hifigan_discrim_checkpoint_<epoch>.pt')
    parser.add_argument('output', help='the merged checkpoint to write')
    args = parser.parse_args(argv)
    try:
        merged = training_checkpoint_from_dle(load_checkpoint(args.generator), load_checkpoint(args.discriminators),
                                              args.generator, args.discriminators)
        save_checkpoint(merged, args.output)
    except (CheckpointError, ValueError, OSError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'wrote {args.output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
