"""Command-line pieces every entry point shares: the one error path (`command`), a parser whose errors are one
line, and checked number types.

Every entry point's main goes through `command`, so that a mistake reads the same everywhere:

    @command('train.py')
    def main(argv=None):
        args = parse_args(argv)
        ...
        return 0

    if __name__ == '__main__':
        sys.exit(main())

A user's mistake is one line on stderr, `<prog>: error: <message>`, and exit code 1 (2 for a usage error, from the
parser); no traceback. --debug on the command line, or TTS_DEBUG=1 in the environment, lets the exception through
with its traceback, for bug reports.
"""
import argparse
import functools
import math
import os
import re
import sys

DEBUG_FLAG = '--debug'
DEBUG_ENV = 'TTS_DEBUG'
USER_ERRORS = (ValueError, OSError)  # the project's error classes derive from ValueError; OSError: files and disks
INTERRUPTED = 130  # a shell's code for SIGINT


def debug_requested(argv):
    """--debug among the arguments (before a bare --), or TTS_DEBUG set to anything but '' or '0'."""
    tokens = sys.argv[1:] if argv is None else [str(token) for token in argv]
    tokens = tokens[:tokens.index('--')] if '--' in tokens else tokens
    return DEBUG_FLAG in tokens or os.environ.get(DEBUG_ENV, '') not in ('', '0')


def command(prog, expected=()):
    """Decorate an entry point's main(argv=None) -> exit code: the wrapped main returns an exit code for every
    outcome and never raises (in-process callers and tests get the code; stderr holds the message):
      * the body's return value (None counts as 0);
      * 2 for a usage error (the parser has printed its line), argparse's own codes for --help;
      * 1 for an error: ValueError, OSError or one of `expected` (further classes that mean a user's mistake, e.g.
        a non-finite loss) gets `<prog>: error: <message>`; any other exception is a bug and gets the same line with
        its class and the way to see its traceback;
      * 130 for Ctrl-C.
    With --debug or TTS_DEBUG=1 every exception propagates with its traceback."""
    def decorate(main):
        @functools.wraps(main)
        def wrapped(argv=None):
            try:
                return _exit_code(main(argv))
            except SystemExit as stop:
                return _system_exit(prog, stop)
            except (Exception, KeyboardInterrupt) as error:
                if debug_requested(argv):
                    raise
                print(f'{prog}: {describe(error, expected)}', file=sys.stderr)
                return INTERRUPTED if isinstance(error, KeyboardInterrupt) else 1
        return wrapped
    return decorate


def run_step(main, argv):
    """Run another entry point's wrapped main in this process (a benchmark building its corpus): its error has been
    printed, and its exit code ends the caller too."""
    code = main(argv)
    if code:
        raise SystemExit(code)


def describe(error, expected=()):
    """'error: <message>' for a user's mistake; for anything else (a bug) the class too, and how to see more."""
    if isinstance(error, KeyboardInterrupt):
        return 'interrupted'
    if isinstance(error, (*USER_ERRORS, *expected)):
        return f'error: {error_message(error)}'
    return (f'error: {type(error).__name__}: {error_message(error)} (unexpected; run again with {DEBUG_FLAG} or '
            f'{DEBUG_ENV}=1 for the traceback, and report it)')


def error_message(error):
    """The error's message on one line. An OSError names its file; a DataLoader worker's error (torch re-raises it
    with the worker's traceback in the message) is its original message, without the exception's qualified name."""
    if isinstance(error, OSError) and error.strerror:
        files = [name for name in (error.filename, error.filename2) if name is not None]
        return ': '.join([*map(str, files), error.strerror])
    text = str(error)
    if 'Original Traceback' in text:
        last = [line.strip() for line in text.splitlines() if line.strip()][-1]
        text = re.sub(r'^[\w.]+(Error|Exception|Warning)?: ', '', last)
    return ' '.join(text.split()) or type(error).__name__


def _exit_code(returned):
    return 0 if returned is None else returned


def _system_exit(prog, stop):
    """sys.exit(code) inside a main: an int is the code; a message (a library's `sys.exit('error: ...')`) is
    printed in the common style and exits 1."""
    if stop.code is None or isinstance(stop.code, int):
        return stop.code or 0
    print(f'{prog}: error: {re.sub(r"^error: ", "", str(stop.code))}', file=sys.stderr)
    return 1


class _Ignored(argparse.Action):
    """--debug is read by `command` from the raw arguments (an error can come before they are parsed); the parser
    only accepts and documents it, and leaves it out of the namespace."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        pass


class ArgumentParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument(DEBUG_FLAG, action=_Ignored,
                          help=f'Show the traceback of an error (for bug reports; also {DEBUG_ENV}=1)')

    def error(self, message):
        """One line, not the usage block: the flag and what is wrong with it."""
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')


def _checked(kind, valid, requirement):
    def convert(text):
        value = kind(text)
        if not valid(value):
            raise argparse.ArgumentTypeError(f'{text} is not {requirement}')
        return value
    convert.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return convert


positive_int = _checked(int, lambda v: v >= 1, 'a positive integer')
non_negative_int = _checked(int, lambda v: v >= 0, 'a non-negative integer')
positive_float = _checked(float, lambda v: v > 0 and math.isfinite(v), 'a positive number')
non_negative_float = _checked(float, lambda v: v >= 0 and math.isfinite(v), 'a non-negative number')


def float_between(low, high):
    """A number from low to high, both included."""
    return _checked(float, lambda v: low <= v <= high, f'a number from {low:g} to {high:g}')
