"""common/fileio.py: atomic writes (the old file or the new one, never half of one, no temporary left behind) and
the checked tensor load (one-line errors that name the file)."""
import os
import stat

import pytest
import torch

from common import fileio
from common.fileio import (TensorFileError, atomic_replace, load_tensor, open_atomic, torch_save_atomic,
                           write_bytes_atomic, write_text_atomic)


def names_in(folder):
    return sorted(path.name for path in folder.iterdir())


def test_writes_create_the_folder_and_leave_only_the_file(tmp_path):
    folder = tmp_path / 'new' / 'folder'
    write_bytes_atomic(folder / 'a.bin', b'\x00\x01')
    write_text_atomic(folder / 'b.txt', 'caf\u00e9\n')
    torch_save_atomic({'w': torch.arange(3)}, folder / 'c.pt')
    assert names_in(folder) == ['a.bin', 'b.txt', 'c.pt']
    assert (folder / 'a.bin').read_bytes() == b'\x00\x01'
    assert (folder / 'b.txt').read_bytes() == 'caf\u00e9\n'.encode('utf-8')
    assert torch.equal(torch.load(folder / 'c.pt', weights_only=True)['w'], torch.arange(3))


def test_readers_see_the_old_file_until_the_write_completes(tmp_path):
    path = tmp_path / 'list.txt'
    write_text_atomic(path, 'old\n')
    with open_atomic(path, 'w', encoding='utf-8') as file:
        file.write('new\n')
        file.flush()
        assert path.read_text() == 'old\n'
    assert path.read_text() == 'new\n'


@pytest.mark.parametrize('interruption', [OSError('disk full'), KeyboardInterrupt()])
def test_failure_mid_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, interruption):
    path = tmp_path / 'data.bin'
    write_bytes_atomic(path, b'complete')
    with pytest.raises(type(interruption)):
        with open_atomic(path) as file:
            file.write(b'half of the new')
            raise interruption
    assert path.read_bytes() == b'complete'
    assert names_in(tmp_path) == ['data.bin']


def test_failed_first_write_leaves_nothing(tmp_path):
    with pytest.raises(Exception):
        torch_save_atomic({'not picklable': lambda: None}, tmp_path / 'model.pt')
    assert names_in(tmp_path) == []


def test_a_stale_temporary_of_a_killed_process_is_replaced(tmp_path):
    path = tmp_path / 'data.bin'
    (tmp_path / f'.data.bin.{os.getpid()}.tmp').write_bytes(b'left by a process that had our pid')
    with atomic_replace(path) as temporary:
        os.symlink('elsewhere', temporary)  # would fail if the stale file were still there
    assert os.readlink(path) == 'elsewhere' and names_in(tmp_path) == ['data.bin']


def test_file_and_then_folder_reach_the_disk_around_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append('fsync folder' if stat.S_ISDIR(os.fstat(fd).st_mode) else 'fsync file')
        real_fsync(fd)

    def replace(source, destination):
        events.append('rename')
        real_replace(source, destination)
    monkeypatch.setattr(fileio.os, 'fsync', fsync)
    monkeypatch.setattr(fileio.os, 'replace', replace)
    write_bytes_atomic(tmp_path / 'data.bin', b'x')
    assert events == ['fsync file', 'rename', 'fsync folder']


# ---------------------------------------------------------------- the checked tensor load

def assert_one_line_error(path, fragment, what='tensor'):
    with pytest.raises(TensorFileError) as error:
        load_tensor(path, what)
    message = str(error.value)
    assert message.startswith(f'{path}: ') and fragment in message, message
    assert '\n' not in message
    assert isinstance(error.value, ValueError)  # callers treat it as bad data


def test_load_returns_the_saved_tensor_on_the_cpu(tmp_path):
    path = tmp_path / 'mel.pt'
    torch.save(torch.randn(80, 7), path)
    loaded = load_tensor(path, 'mel')
    assert torch.equal(loaded, torch.load(path, weights_only=True)) and loaded.device.type == 'cpu'


def test_missing_file_names_what_was_expected(tmp_path):
    assert_one_line_error(tmp_path / 'absent.pt', 'no such mel file', what='mel')


@pytest.mark.parametrize('damage', ['truncated', 'text'])
def test_corrupt_file_is_named(tmp_path, damage):
    path = tmp_path / 'bad.pt'
    torch.save(torch.ones(1000), path)
    if damage == 'truncated':
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_text('not a tensor\n')
    assert_one_line_error(path, 'not a readable tensor file')


class Pickled:
    pass


def test_pickled_object_is_refused_in_one_line(tmp_path):
    path = tmp_path / 'object.pt'
    torch.save(Pickled(), path)  # weights_only refuses it with a long multi-line message
    assert_one_line_error(path, 'not a readable tensor file')


def test_other_content_than_a_tensor_is_named(tmp_path):
    path = tmp_path / 'dict.pt'
    torch.save({'mel': torch.zeros(2)}, path)
    assert_one_line_error(path, 'holds a dict, expected a durations tensor', what='durations')
