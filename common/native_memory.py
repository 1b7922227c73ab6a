"""Keep a long CPU run's memory at its working set: glibc's heap otherwise grows with every tensor of a new size.

Synthesis of a long input allocates tensors of ever different sizes (each batch and vocoder chunk has its own length).
glibc serves blocks under its mmap threshold from the heap, and that threshold rises to the largest block freed so far
(up to 32 MiB on 64-bit), so after a few batches every activation lives in a heap that fragments and is seldom given
back: a 4,000-character paragraph peaked at 1.36 GB with the demo models where its working set is under 0.75 GB. A
fixed threshold of 1 MiB puts every large tensor in its own mapping, returned to the system when it is freed. The price
is a page fault for every page of every fresh mapping: on 4 kB pages HiFi-GAN vocoding of one short phrase took 1.5
times as long, and a 20,000-character paragraph about 1.1 times, so inference.py asks for it only for an input of more
than one window of batches. On the huge pages that common/__init__.py asks for, a fault maps 2 MB and the price nearly
vanishes (the demo's phrase: 0.85 and 0.73 s against 0.85 and 0.72 s; 1.32 against 0.81 s on 4 kB pages); the rule
stays, for machines without them, and one window needs no bound. (Trimming the heaps with malloc_trim between windows
kept the speed but not the memory: a 300-line file still peaked at 1.4 GB.)
"""
import ctypes

LARGE_BLOCK_BYTES = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


def release_large_blocks():
    """Serve every allocation of LARGE_BLOCK_BYTES or more by its own mapping, returned to the system when freed.
    True where the C library is glibc and took the setting; False elsewhere (musl, macOS, Windows): harmless."""
    try:
        symbols = ctypes.CDLL(None)  # the process's own symbols, the C library's among them
    except (OSError, TypeError):  # Windows has no such handle
        return False
    mallopt = getattr(symbols, 'mallopt', None)
    return mallopt is not None and mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1
