"""common/checkpoint.py: atomic writes, safe loading, accepted formats, RNG state, the checkpoint folder."""
import os
import random
import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

from common.checkpoint import (CheckpointError, CheckpointManager, capture_rng_state, load_checkpoint,
                               restore_rng_state, save_checkpoint, split_checkpoint, strip_module_prefix)


class Pickled:
    """A class that only unpickling can rebuild (weights_only refuses it)."""

    def __init__(self, value):
        self.value = value


def tiny_state_dict():
    return nn.Linear(3, 2).state_dict()


def test_save_then_load_round_trips_and_leaves_no_temporary_file(tmp_path):
    payload = {'state_dict': tiny_state_dict(), 'epoch': 3, 'config': {'n': 1}}
    path = tmp_path / 'sub' / 'ckpt.pt'
    save_checkpoint(payload, path)
    loaded = load_checkpoint(path)
    assert loaded['epoch'] == 3 and loaded['config'] == {'n': 1}
    for key, value in payload['state_dict'].items():
        assert torch.equal(loaded['state_dict'][key], value)
    assert os.listdir(path.parent) == ['ckpt.pt']


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / 'ckpt.pt'
    save_checkpoint({'epoch': 1}, path)
    with pytest.raises(Exception):
        save_checkpoint({'epoch': 2, 'bad': lambda: None}, path)  # lambdas cannot be pickled
    assert load_checkpoint(path) == {'epoch': 1}
    assert os.listdir(tmp_path) == ['ckpt.pt']


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match='nope.pt: no such checkpoint file'):
        load_checkpoint(tmp_path / 'nope.pt')


@pytest.mark.parametrize('damage', ['truncate', 'text'])
def test_damaged_or_foreign_file_is_named(tmp_path, damage):
    path = tmp_path / 'bad.pt'
    save_checkpoint({'w': torch.ones(1000)}, path)
    if damage == 'truncate':
        path.write_bytes(path.read_bytes()[:500])
    else:
        path.write_text('not a checkpoint\n')
    with pytest.raises(CheckpointError, match=r'bad\.pt: not a readable torch checkpoint') as info:
        load_checkpoint(path)
    assert '\n' not in str(info.value)
    assert 'weights_only' not in str(info.value)  # torch's advice to load without it is not passed on


@pytest.mark.parametrize('zip_format', [True, False])
def test_pickled_object_is_refused_with_the_flag_to_allow_it(tmp_path, zip_format):
    path = tmp_path / 'obj.pt'
    torch.save({'model': Pickled(5)}, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and 'Pickled' in message and 'runs code' in message
    assert 'allow_pickle=True' in message and '--allow-pickle' in message and '\n' not in message


def test_allow_pickle_loads_objects_of_importable_classes(tmp_path):
    path = tmp_path / 'obj.pt'
    torch.save({'model': Pickled(5)}, path)
    loaded = load_checkpoint(path, allow_pickle=True)
    assert isinstance(loaded['model'], Pickled) and loaded['model'].value == 5


def fake_nvidia_waveglow():
    """A WaveGlow-like object whose classes pickle as `glow.*`, as NVIDIA/waveglow's published files do."""
    glow = types.ModuleType('glow')
    for name in ('WaveGlow', 'WN', 'Invertible1x1Conv'):
        setattr(glow, name, type(name, (nn.Module,), {'__module__': 'glow'}))
    model, wn, convinv = glow.WaveGlow(), glow.WN(), glow.Invertible1x1Conv()
    wn.start = nn.utils.weight_norm(nn.Conv1d(2, 4, 1))
    convinv.conv = nn.Conv1d(4, 4, 1, bias=False)
    model.WN, model.convinv = nn.ModuleList([wn]), nn.ModuleList([convinv])
    return glow, model


@pytest.mark.filterwarnings('ignore::FutureWarning')
def test_nvidia_waveglow_pickle_loads_through_the_glow_shim(tmp_path, monkeypatch):
    glow, model = fake_nvidia_waveglow()
    path = tmp_path / 'waveglow_256channels.pt'
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, 'glow', glow)
        torch.save({'model': model, 'iteration': 7}, path)
    assert 'glow' not in sys.modules
    with pytest.raises(CheckpointError, match='glow.WaveGlow'):
        load_checkpoint(path)
    loaded = load_checkpoint(path, allow_pickle=True)
    assert 'glow' not in sys.modules  # the alias lives only while unpickling
    state_dict, config, meta = split_checkpoint(loaded)
    expected = model.state_dict()
    assert list(state_dict) == list(expected) and 'WN.0.start.weight_g' in state_dict
    assert all(torch.equal(state_dict[k], expected[k]) for k in expected)
    assert config is None and meta == {'iteration': 7}


def test_split_reference_training_checkpoint():
    weights = tiny_state_dict()
    obj = {'epoch': 4, 'config': {'n_mel_channels': 80}, 'state_dict': weights, 'optimizer': {'state': {}},
           'scaler': {}, 'random_rng_states_all': torch.zeros(1, 8, dtype=torch.uint8)}
    state_dict, config, meta = split_checkpoint(obj)
    assert state_dict is weights and config == {'n_mel_channels': 80}
    assert set(meta) == {'epoch', 'optimizer', 'scaler', 'random_rng_states_all'}


def test_split_nvidia_tacotron2_checkpoint_has_no_config():
    obj = {'iteration': 10, 'state_dict': tiny_state_dict(), 'optimizer': {}, 'learning_rate': 1e-3}
    _, config, meta = split_checkpoint(obj)
    assert config is None and meta == {'iteration': 10, 'optimizer': {}, 'learning_rate': 1e-3}


def test_split_bare_state_dict():
    weights = tiny_state_dict()
    assert split_checkpoint(weights) == (weights, None, {})


@pytest.mark.parametrize('obj, problem', [
    ({'epoch': 1, 'optimizer': {}}, "not a recognised checkpoint.*found keys: epoch, optimizer"),
    ([1, 2], 'found a list'),
    ({'state_dict': {'w': 1.0}}, "'state_dict' is not a non-empty dict of tensors"),
    ({'model': {'w': torch.ones(1)}}, "'model' holds a dict, not a module"),
])
def test_split_rejects_unknown_layouts(obj, problem):
    with pytest.raises(CheckpointError, match=f'^x.pt: .*{problem}'):
        split_checkpoint(obj, source='x.pt')


def test_strip_module_prefix_unwraps_ddp_and_fp16_wrappers():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    wrapper = nn.Module()
    wrapper.module = nn.Sequential(nn.Identity(), model)  # keys `module.1.*`, like DLE's fp16 wrapper under DDP
    wrapped = wrapper.state_dict()
    stripped = strip_module_prefix(wrapped)
    assert list(stripped) == list(model.state_dict())
    assert stripped._metadata['1'] == model.state_dict()._metadata['1']  # BatchNorm's version survives
    assert next(iter(wrapped)).startswith('module.1.')  # the input is left alone
    nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).load_state_dict(stripped)  # strict
    assert list(strip_module_prefix({'module.a': 1, 'b.module.c': 2})) == ['a', 'b.module.c']


def draw_from_every_generator():
    return random.random(), np.random.rand(3).tolist(), np.random.randn(), torch.rand(3).tolist()


def test_rng_state_round_trips_through_a_weights_only_file(tmp_path):
    np.random.randn()  # leave a cached gaussian in numpy's state
    path = tmp_path / 'rng.pt'
    save_checkpoint({'rng': capture_rng_state()}, path)
    expected = draw_from_every_generator()
    draw_from_every_generator()
    restore_rng_state(load_checkpoint(path)['rng'])
    assert draw_from_every_generator() == expected


def save_epochs(manager, epochs):
    return [manager.save({'epoch': e}, e) for e in epochs]


def test_manager_prunes_old_files_but_keeps_milestones(tmp_path):
    manager = CheckpointManager(tmp_path, 'Tacotron2', keep_last=2, milestones=(2,))
    paths = save_epochs(manager, range(1, 6))
    assert paths[-1].name == 'checkpoint_Tacotron2_5.pt'
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ['checkpoint_Tacotron2_2.pt', 'checkpoint_Tacotron2_4.pt', 'checkpoint_Tacotron2_5.pt',
                     'checkpoint_Tacotron2_last.pt']
    assert manager.link_path.is_symlink() and os.readlink(manager.link_path) == 'checkpoint_Tacotron2_5.pt'
    assert load_checkpoint(manager.link_path) == {'epoch': 5}
    assert manager.last_path() == paths[-1]


def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    stale = tmp_path / '.checkpoint_FastPitch_3.pt.999999.tmp'  # a save killed mid-write, by another process
    stale.write_bytes(b'half a checkpoint')
    other_model = tmp_path / '.checkpoint_WaveGlow_3.pt.999999.tmp'
    other_model.write_bytes(b'not ours to remove')
    CheckpointManager(tmp_path, 'FastPitch').save({'epoch': 4}, 4)
    assert not stale.exists() and other_model.exists()


def test_manager_orders_iteration_saves_inside_their_epoch(tmp_path):
    manager = CheckpointManager(tmp_path, 'FastPitch', keep_last=2)
    manager.save({'at': 'end 1'}, 1)
    inside = manager.save({'at': 'it 150'}, 2, iteration=150)
    assert inside.name == 'checkpoint_FastPitch_2_it150.pt' and manager.last_path() == inside
    end = manager.save({'at': 'end 2'}, 2)
    assert manager.last_path() == end
    assert {p.name for p in tmp_path.glob('checkpoint_FastPitch_[0-9]*')} == {inside.name, end.name}


def test_manager_falls_back_when_the_newest_file_is_damaged(tmp_path):
    assert CheckpointManager(tmp_path / 'not_yet_created', 'WaveGlow').last_path() is None
    manager = CheckpointManager(tmp_path, 'WaveGlow')
    assert manager.last_path() is None
    first, second = save_epochs(manager, [1, 2])
    second.write_bytes(second.read_bytes()[:100])
    with pytest.warns(UserWarning, match='checkpoint_WaveGlow_2.pt: truncated or corrupt'):
        assert manager.last_path() == first


def test_manager_copies_where_symlinks_fail(tmp_path, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError('symlinks not supported')
    monkeypatch.setattr(os, 'symlink', no_symlinks)
    manager = CheckpointManager(tmp_path, 'WaveGlow')
    save_epochs(manager, [1, 2])
    assert not manager.link_path.is_symlink() and load_checkpoint(manager.link_path) == {'epoch': 2}
    assert len(list(tmp_path.iterdir())) == 3


def test_manager_rejects_keeping_nothing(tmp_path):
    with pytest.raises(ValueError, match='keep_last must be at least 1'):
        CheckpointManager(tmp_path, 'WaveGlow', keep_last=0)


def flip_a_bit_in_the_weights(path):
    """Flip one bit inside the first tensor record of a torch zip archive, as a bad disk or copy would."""
    import zipfile
    with zipfile.ZipFile(path) as archive:
        record = next(info for info in archive.infolist() if '/data/' in info.filename)
    data = bytearray(path.read_bytes())
    data[record.header_offset + 200] ^= 0x10  # past the local header (30 bytes + name + padding to 64)
    path.write_bytes(bytes(data))


def test_a_flipped_bit_is_refused_by_every_loader(tmp_path):
    import models
    from tests.tiny_configs import tiny_config, tiny_model
    path = tmp_path / 'waveglow.pt'
    save_checkpoint({'model_name': 'WaveGlow', 'config': tiny_config('WaveGlow'),
                     'state_dict': tiny_model('WaveGlow').state_dict()}, path)
    models.load_model_from_checkpoint('WaveGlow', path)  # intact: loads
    flip_a_bit_in_the_weights(path)
    torch.load(path, weights_only=True)  # torch itself does not notice
    for load in (load_checkpoint, lambda path: load_checkpoint(path, allow_pickle=True),
                 lambda path: models.load_model_from_checkpoint('WaveGlow', path)):  # inference, export, hubconf
        with pytest.raises(CheckpointError) as info:
            load(path)
        assert str(info.value).startswith(f'{path}: corrupt (checksum mismatch in ')
        assert '\n' not in str(info.value)


@pytest.mark.parametrize('without', ['legacy format', 'crc32 off'])
def test_files_without_checksums_still_load(tmp_path, without):
    """NVIDIA's oldest files use torch's legacy format, which has no checksums; torch.save can also leave them out."""
    path = tmp_path / 'ckpt.pt'
    if without == 'legacy format':
        torch.save({'state_dict': tiny_state_dict()}, path, _use_new_zipfile_serialization=False)
    else:
        torch.serialization.set_crc32_options(False)
        try:
            torch.save({'state_dict': tiny_state_dict()}, path)
        finally:
            torch.serialization.set_crc32_options(True)
    assert set(load_checkpoint(path)['state_dict']) == {'weight', 'bias'}


def test_allow_pickle_unpickles_a_warm_start_once(tmp_path):
    """A pickled file runs its code when loaded: train.py's warm start must load it once, not once per check."""
    from argparse import Namespace

    import models
    from common.restore import restore
    counter = tmp_path / 'unpickled'
    torch.save({'payload': CountsUnpickling(str(counter))}, tmp_path / 'trusted.pt')
    args = Namespace(checkpoint_path=str(tmp_path / 'trusted.pt'), allow_pickle=True, warm_start_skip=[])
    with pytest.raises(CheckpointError, match='not a recognised checkpoint'):
        restore(args, models.model_spec('WaveGlow'), models.MODELS.values(), None, 0, 1, print)
    assert counter.read_text() == 'x'


class CountsUnpickling:
    """Appends an x to a file each time it is unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _append_x, (self.path,)


def _append_x(path):
    with open(path, 'a') as file:
        file.write('x')
    return None


def test_a_full_disk_is_an_os_error_naming_the_checkpoint(tmp_path, monkeypatch):
    """torch reports it as a RuntimeError about stream positions (train.py printed it as a bug, with a traceback)."""
    import errno
    import io

    from common import fileio

    class FullDisk(io.FileIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fileio, 'open', lambda path, mode, encoding=None: FullDisk(path, 'wb'), raising=False)
    path = tmp_path / 'checkpoint_WaveGlow_1.pt'
    with pytest.raises(OSError) as info:
        save_checkpoint({'w': torch.zeros(1000)}, path)
    assert (info.value.errno, info.value.filename) == (errno.ENOSPC, str(path))
    assert list(tmp_path.iterdir()) == []  # no temporary file left
