"""common/native_memory.py: after release_large_blocks, a freed tensor of a few MiB leaves the process at once."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# In a fresh process: free an 8 MiB tensor (glibc then raises its mmap threshold to 8 MiB), fill a 2 MiB one, free
# it, and print how many MiB the resident memory fell by; 'unsupported' where the C library takes no such setting.
CHILD = '''
import os, sys, torch
from common.native_memory import release_large_blocks
if sys.argv[1] == 'release' and not release_large_blocks():
    sys.exit(print('unsupported'))
def resident_bytes():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
big = torch.ones(2 << 20)
del big
tensor = torch.ones(1 << 19)
before = resident_bytes()
del tensor
print((before - resident_bytes()) / 2 ** 20)
'''


def resident_drop_mib(mode):
    result = subprocess.run([sys.executable, '-c', CHILD, mode], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


@pytest.mark.skipif(not Path('/proc/self/statm').exists(), reason='reads resident memory from /proc (Linux)')
def test_a_freed_tensor_of_two_mib_is_given_back_only_with_the_setting():
    released = resident_drop_mib('release')
    if released == 'unsupported':
        pytest.skip('the C library here is not glibc: release_large_blocks has nothing to set')
    assert float(released) >= 1.9
    assert float(resident_drop_mib('default')) < 0.5  # glibc's own heap keeps it: what the setting is for
