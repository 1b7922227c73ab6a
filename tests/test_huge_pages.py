"""common/__init__.py: importing our code before the first tensor puts large CPU tensors on huge pages, unless the
user's THP_MEM_ALLOC_ENABLE says otherwise."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
THP_MODE_FILE = Path('/sys/kernel/mm/transparent_hugepage/enabled')

# In a fresh process: import an entry point's first dependency, fill a 16 MiB tensor and print the switch's value
# and the kB of the process's anonymous memory on huge pages.
CHILD = '''
import os, torch
import models
weight = torch.ones(4 << 20)
with open('/proc/self/smaps_rollup') as f:
    huge_kb = int(next(line for line in f if line.startswith('AnonHugePages')).split()[1])
print(os.environ['THP_MEM_ALLOC_ENABLE'], huge_kb)
'''


def kernel_thp_mode():
    """'always', 'madvise' or 'never' (the bracketed choice), or None where the kernel has no THP."""
    if not THP_MODE_FILE.is_file():
        return None
    found = re.search(r'\[(\w+)\]', THP_MODE_FILE.read_text())
    return found.group(1) if found else None


def run_child(setting):
    env = {key: value for key, value in os.environ.items() if key != 'THP_MEM_ALLOC_ENABLE'}
    if setting is not None:
        env['THP_MEM_ALLOC_ENABLE'] = setting
    result = subprocess.run([sys.executable, '-c', CHILD], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            check=True)
    value, huge_kb = result.stdout.split()
    return value, int(huge_kb)


@pytest.mark.skipif(kernel_thp_mode() in (None, 'never'), reason='the kernel offers no transparent huge pages')
def test_large_tensors_land_on_huge_pages_by_default():
    value, huge_kb = run_child(None)
    assert value == '1'
    assert huge_kb >= 2048  # at least one 2 MB page of the 16 MiB tensor


def test_a_users_setting_is_kept():
    value, huge_kb = run_child('0')
    assert value == '0'
    if kernel_thp_mode() == 'madvise':  # only PyTorch's madvise would have asked for huge pages
        assert huge_kb == 0
