"""Atomic file writes, the checked loading of saved tensors and of JSON files: the one place for each.

Atomic write: the new content goes to a temporary file beside the destination, `.NAME.PID.tmp` (hidden, and unique
per process, so parallel workers never share one), is flushed to disk and renamed over the destination; the folder
is then synced so that the rename itself survives a crash. Readers see the old file or the new one, never half of
one, and the temporary is removed on any failure, KeyboardInterrupt included.

Checked load: `torch.load(weights_only=True)` of a file that must hold one tensor; whatever is wrong with the file
becomes a TensorFileError whose one-line message names it.
"""
import contextlib
import json
import os
from pathlib import Path

import torch


class TensorFileError(ValueError):
    """A tensor file that is missing, unreadable or holds something other than a tensor; one line naming it."""


def _temporary_path(path):
    return path.with_name(f'.{path.name}.{os.getpid()}.tmp')


def _fsync_folder(folder):
    """Make a rename durable: the directory entry itself must reach the disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_replace(path):
    """Yield the temporary path for the caller to create; on success it is renamed over `path` (whose folder is
    created if missing), on any exception it is removed and the exception goes on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary_path(path)
    temporary.unlink(missing_ok=True)  # left by a killed process that had our pid
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


@contextlib.contextmanager
def open_atomic(path, mode='wb', encoding=None):
    """Open a file for writing that replaces `path` atomically when the `with` block ends without an exception."""
    with atomic_replace(path) as temporary:
        with open(temporary, mode, encoding=encoding) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())


def write_bytes_atomic(path, data):
    with open_atomic(path) as file:
        file.write(data)


def write_text_atomic(path, text):
    with open_atomic(path, 'w', encoding='utf-8') as file:
        file.write(text)


def torch_save_atomic(obj, path):
    with open_atomic(path) as file:
        torch.save(obj, file)


def load_tensor(path, what='tensor'):
    """The tensor saved in `path`, on the CPU, read with weights_only=True. `what` names its content in the
    messages ('mel' gives '...: no such mel file')."""
    path = Path(path)
    if not path.is_file():
        raise TensorFileError(f'{path}: no such {what} file')
    try:
        value = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # torch.load raises several types for corrupt or foreign files
        # torch's text for a refused pickle advises loading with weights_only=False: not advice to pass on
        details = ('a pickled Python object or no pickle at all' if 'Weights only load failed' in str(error)
                   else f'{type(error).__name__}: {_first_line(error)}')
        raise TensorFileError(f'{path}: not a readable tensor file, it may be truncated or corrupt '
                              f'({details})') from None
    if not isinstance(value, torch.Tensor):
        raise TensorFileError(f'{path}: holds a {type(value).__name__}, expected a {what} tensor')
    return value


def read_json(path, label, error_class=ValueError):
    """The JSON value in `path`; a missing or unparsable file raises error_class('<label>: <what is wrong>')."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise error_class(f'{label}: no such file') from None
    except (OSError, json.JSONDecodeError) as error:
        raise error_class(f'{label}: not readable JSON ({error})') from None


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else 'no details'
