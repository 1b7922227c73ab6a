"""Reading and writing checkpoint files: the only module that touches them.

Writes are atomic (temporary file, fsync, rename), so a crash never leaves a half-written checkpoint.
Reads check the file's checksums first: torch.save writes a zip archive with a CRC-32 of every record (the weights,
the pickled structure), which torch.load itself never compares, so a flipped bit would load as a wrong weight.
Files of torch's legacy format (the oldest NVIDIA ones) carry no checksum and are read as they are.
Reads use `weights_only=True`; files that hold pickled Python objects are refused unless the caller
explicitly allows unpickling. `split_checkpoint` understands our format and the NVIDIA reference formats.
"""
import contextlib
import os
import random
import re
import shutil
import sys
import types
import warnings
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from common.fileio import atomic_replace, torch_save_atomic


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem."""


def save_checkpoint(payload, path):
    """torch.save `payload` to `path` atomically: a crash leaves the previous file, never half of a new one. A write
    that fails (a full disk, a folder that cannot be written) raises OSError naming `path`; torch reports a full disk
    as a RuntimeError about stream positions, with the system's error as its context."""
    try:
        torch_save_atomic(payload, path)
    except (OSError, RuntimeError) as error:
        system_error = error if isinstance(error, OSError) else error.__context__
        if not isinstance(system_error, OSError) or system_error.errno is None:
            raise
        raise OSError(system_error.errno, system_error.strerror, str(path)) from None


# NVIDIA/waveglow pickles name their classes `glow.WaveGlow`, `glow.WN` and `glow.Invertible1x1Conv`.
# Plain modules are enough to receive the unpickled attributes, so `state_dict()` works on the result.
class WaveGlow(nn.Module):
    pass


class WN(nn.Module):
    pass


class Invertible1x1Conv(nn.Module):
    pass


@contextlib.contextmanager
def _glow_alias():
    """Resolve `glow.*` while unpickling, without shadowing a real `glow` module if one is importable."""
    shim = types.ModuleType('glow')
    shim.WaveGlow, shim.WN, shim.Invertible1x1Conv = WaveGlow, WN, Invertible1x1Conv
    installed = sys.modules.setdefault('glow', shim) is shim
    try:
        yield
    finally:
        if installed:
            del sys.modules['glow']


def load_checkpoint(path, allow_pickle=False):
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'{path}: no such checkpoint file')
    damage = checksum_mismatch(path)
    if damage:
        raise CheckpointError(f'{path}: corrupt ({damage}); use an intact copy or an earlier checkpoint')
    if allow_pickle:
        try:
            with _glow_alias():
                return torch.load(path, map_location='cpu', weights_only=False)
        except Exception as error:
            raise CheckpointError(f'{path}: cannot be loaded ({type(error).__name__}: {_first_line(error)})') from None
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:
        # torch's safe unpickler refuses anything but tensors and plain containers; it names the class when the
        # pickle protocol lets it see one (protocol 2), and only an opcode otherwise.
        if 'Weights only load failed' in str(error) and _looks_like_torch_file(path):
            blocked = re.search(r'Unsupported global: GLOBAL (\S+)', str(error))
            what = f' ({blocked.group(1)})' if blocked else ''
            raise CheckpointError(
                f'{path}: holds a pickled Python object{what}; loading it runs code from the file, '
                'pass allow_pickle=True (command line: --allow-pickle) only for files you trust') from None
        # torch's own text for bytes that are no pickle at all advises weights_only=False: not advice to pass on
        details = ('' if 'Weights only load failed' in str(error)
                   else f' ({type(error).__name__}: {_first_line(error)})')
        raise CheckpointError(f'{path}: not a readable torch checkpoint, it may be truncated or corrupt'
                              f'{details}') from None


def read_train_setup(path):
    """The training flags a checkpoint of ours stores (train_setup), without reading its tensors (memory-mapped);
    {} where it has none or cannot be read that way (legacy or pickled formats, missing or corrupt files: for
    load_checkpoint to report)."""
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:
        return {}
    setup = checkpoint.get('train_setup') if isinstance(checkpoint, dict) else None
    return setup if isinstance(setup, dict) else {}


def _looks_like_torch_file(path):
    """A torch zip archive, or a legacy torch file (a pickle stream opens with the PROTO opcode 0x80)."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else 'no details'


def _is_tensor_dict(obj):
    return isinstance(obj, dict) and len(obj) > 0 and all(torch.is_tensor(v) for v in obj.values())


def split_checkpoint(obj, source='checkpoint'):
    """Return (state_dict, config or None, meta) from any accepted checkpoint layout.

    Accepted: a dict with `state_dict` (ours, DLE Tacotron2/WaveGlow/FastPitch, NVIDIA/tacotron2) or `generator`
    (DLE HiFi-GAN generator files, jik876/hifi-gan's g_* files), whose `config` if present is returned separately
    and every other key lands in `meta`; NVIDIA/waveglow's `{'model': module}` (its `state_dict()` is taken); and a
    bare state dict. `source` names the file in error messages.
    """
    if _is_tensor_dict(obj):
        return obj, None, {}
    weights_key = next((key for key in ('state_dict', 'generator') if isinstance(obj, dict) and key in obj), None)
    if weights_key is not None:
        state_dict = obj[weights_key]
        if not _is_tensor_dict(state_dict):
            raise CheckpointError(f"{source}: '{weights_key}' is not a non-empty dict of tensors")
        meta = {k: v for k, v in obj.items() if k not in (weights_key, 'config')}
        return state_dict, obj.get('config'), meta
    if isinstance(obj, dict) and {'mpd', 'msd'} <= set(obj):
        raise CheckpointError(f'{source}: holds only HiFi-GAN discriminators (mpd, msd), no generator: use the '
                              'hifigan_gen_checkpoint_<epoch>.pt of the same epoch')
    if isinstance(obj, dict) and 'model' in obj:
        if not callable(getattr(obj['model'], 'state_dict', None)):
            raise CheckpointError(f"{source}: 'model' holds a {type(obj['model']).__name__}, not a module")
        meta = {k: v for k, v in obj.items() if k != 'model'}
        return obj['model'].state_dict(), None, meta
    found = f'keys: {", ".join(map(str, obj))}' if isinstance(obj, dict) else f'a {type(obj).__name__}'
    raise CheckpointError(f"{source}: not a recognised checkpoint (expected 'state_dict' or 'model' or a dict "
                          f'of tensors, found {found})')


def strip_module_prefix(state_dict):
    """Remove the leading `module.1.` and then `module.` that DDP (and DLE's fp16 wrapper) put on keys."""
    stripped = OrderedDict((_unwrapped_name(key), value) for key, value in state_dict.items())
    if hasattr(state_dict, '_metadata'):  # per-module versions, keyed by module name without the trailing dot
        stripped._metadata = OrderedDict((_unwrapped_name(name + '.')[:-1], version)
                                         for name, version in state_dict._metadata.items())
    return stripped


def _unwrapped_name(key):
    for prefix in ('module.1.', 'module.'):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


def capture_rng_state():
    """Every random generator's state, in types that `weights_only` loading accepts (no numpy arrays)."""
    _, keys, pos, has_gauss, cached_gauss = np.random.get_state()
    state = {'python': random.getstate(),
             'numpy': {'keys': torch.from_numpy(keys.astype(np.int64)), 'pos': int(pos),
                       'has_gauss': int(has_gauss), 'cached_gaussian': float(cached_gauss)},
             'torch': torch.get_rng_state()}
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state):
    random.setstate(state['python'])
    numpy_state = state['numpy']
    np.random.set_state(('MT19937', numpy_state['keys'].numpy().astype(np.uint32), numpy_state['pos'],
                         numpy_state['has_gauss'], numpy_state['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    if torch.cuda.is_available() and 'cuda' in state:
        if len(state['cuda']) != torch.cuda.device_count():
            warnings.warn(f"restoring CUDA RNG state saved on {len(state['cuda'])} devices on "
                          f'{torch.cuda.device_count()} devices; extra ones keep their state')
        for device, device_state in enumerate(state['cuda'][:torch.cuda.device_count()]):
            torch.cuda.set_rng_state(device_state, device)


def checksum_mismatch(path):
    """What is wrong with a torch zip archive's records, checked against their CRC-32s ('checksum mismatch in
    RECORD'), or None when they match. A file that is no zip archive (torch's legacy format, or one truncated before
    its central directory) has nothing to check here: torch.load then reads it or finds it unreadable."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            for record in archive.infolist():
                if record.CRC == 0 and record.file_size > 0:  # saved with torch.serialization.set_crc32_options(False)
                    continue
                try:
                    with archive.open(record) as data:
                        while data.read(1 << 24):
                            pass
                except zipfile.BadZipFile:
                    return f'checksum mismatch in {record.filename}'
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        return f'damaged zip archive: {error}'
    return None


class CheckpointManager:
    """Numbered checkpoints of one model in one folder, a `_last.pt` link to the newest one, and pruning.

    `save(payload, epoch)` writes `checkpoint_<Model>_<epoch>.pt` (end of epoch); `save(payload, epoch, iteration)`
    writes `checkpoint_<Model>_<epoch>_it<iteration>.pt` (a save inside that epoch, ordered before the epoch's
    end-of-epoch file). After each save the newest `keep_last` files survive (all of them when None), plus the
    end-of-epoch files whose epoch is in `milestones`. Call it on the main process only.
    """

    def __init__(self, output_dir, model_name, keep_last=None, milestones=()):
        if keep_last is not None and keep_last < 1:
            raise ValueError(f'keep_last must be at least 1 (or None to keep every checkpoint), got {keep_last}')
        self.output_dir = Path(output_dir)
        self.model_name = model_name
        self.keep_last = keep_last
        self.milestones = frozenset(milestones)
        self.link_path = self.output_dir / f'checkpoint_{model_name}_last.pt'
        self._name_pattern = re.compile(rf'checkpoint_{re.escape(model_name)}_(\d+)(?:_it(\d+))?\.pt')

    def save(self, payload, epoch, iteration=None):
        suffix = str(epoch) if iteration is None else f'{epoch}_it{iteration}'
        path = self.output_dir / f'checkpoint_{self.model_name}_{suffix}.pt'
        self._remove_stale_temporaries()
        save_checkpoint(payload, path)
        self._point_last_at(path)
        self._prune()
        return path

    def _remove_stale_temporaries(self):
        """A save that was killed leaves its temporary file (gigabytes at full size); the next save removes it.
        Only this process writes this model's checkpoints into this folder, so any other temporary is stale."""
        for stale in self.output_dir.glob(f'.checkpoint_{self.model_name}_*.pt.*.tmp'):  # .NAME.PID.tmp (fileio)
            if stale.name.rsplit('.', 2)[1] != str(os.getpid()):
                stale.unlink(missing_ok=True)

    def last_path(self):
        """The newest intact checkpoint (a damaged newest file is skipped with a warning), or None."""
        for path, _, _ in reversed(self._checkpoints()):
            if zipfile.is_zipfile(path) and checksum_mismatch(path) is None:
                return path
            warnings.warn(f'{path}: truncated or corrupt, falling back to the previous checkpoint')
        return None

    def _point_last_at(self, path):
        """Replace the link atomically: build the new one under a temporary name, then rename it over the old."""
        with atomic_replace(self.link_path) as temporary:
            try:
                os.symlink(path.name, temporary)  # relative, so the folder can be moved
            except OSError:  # file systems without symlinks get a copy
                shutil.copyfile(path, temporary)

    def _checkpoints(self):
        """(path, epoch, iteration or None) of this model's numbered files, oldest first."""
        found = []
        for path in self.output_dir.iterdir() if self.output_dir.is_dir() else ():
            match = self._name_pattern.fullmatch(path.name)
            if match:
                epoch, iteration = int(match[1]), None if match[2] is None else int(match[2])
                found.append(((epoch, iteration is None, iteration or 0), (path, epoch, iteration)))
        return [entry for _, entry in sorted(found)]

    def _prune(self):
        if self.keep_last is None:
            return
        for path, epoch, iteration in self._checkpoints()[:-self.keep_last]:
            if iteration is None and epoch in self.milestones:
                continue
            path.unlink()
