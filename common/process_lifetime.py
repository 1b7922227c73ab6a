"""Child processes that never outlive their parent: a DataLoader worker whose rank was killed, a rank whose launcher
was killed (torchrun starts ranks in sessions of their own, so signals to the launcher's group miss them)."""
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def end_with_parent(signum=signal.SIGKILL):
    """Ask the kernel to send `signum` to this process when its parent ends (Linux; elsewhere nothing happens).
    A parent that ended before the request took effect has left this process to init: it gets the signal now."""
    if not sys.platform.startswith('linux'):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):  # no C library to ask: the launcher's own clean-up has to do
        return
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)
