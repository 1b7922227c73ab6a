"""common/cli.py: the one error path of every command line (exit codes, one-line messages, --debug)."""
import argparse
import errno

import pytest

from common.cli import ArgumentParser, command, error_message, float_between, run_step
from tests.commands import run_main


def make_main(body, expected=()):
    """A command whose parser knows --debug and one --n flag, then runs body()."""
    @command('tool.py', expected=expected)
    def main(argv=None):
        parser = ArgumentParser(prog='tool.py')
        parser.add_argument('--n', type=int, default=0)
        parser.parse_args(argv)
        return body()
    return main


class CustomStop(RuntimeError):
    pass


def fail(error):
    def body():
        raise error
    return body


@pytest.mark.parametrize('body, code, line', [
    (lambda: None, 0, None),
    (lambda: 3, 3, None),
    (fail(ValueError('data.txt:4: empty transcript')), 1, 'tool.py: error: data.txt:4: empty transcript'),
    (fail(ValueError('spread\n   over\nlines')), 1, 'tool.py: error: spread over lines'),
    (fail(FileNotFoundError(errno.ENOENT, 'No such file or directory', 'in.txt')), 1,
     'tool.py: error: in.txt: No such file or directory'),
    (fail(OSError(errno.ENOSPC, 'No space left on device', 'out/ckpt.pt')), 1,
     'tool.py: error: out/ckpt.pt: No space left on device'),
    (fail(SystemExit('error: a library gave up')), 1, 'tool.py: error: a library gave up'),
    (fail(KeyboardInterrupt()), 130, 'tool.py: interrupted'),
    (fail(KeyError('x')), 1, "tool.py: error: KeyError: 'x' (unexpected; run again with --debug or TTS_DEBUG=1 for "
                             "the traceback, and report it)"),
])
def test_every_outcome_is_an_exit_code_and_at_most_one_line(body, code, line, monkeypatch):
    monkeypatch.delenv('TTS_DEBUG', raising=False)
    assert run_main(make_main(body), []) == (code, [line] if line else [])


def test_expected_classes_read_as_user_errors():
    assert run_main(make_main(fail(CustomStop('loss is NaN')), expected=(CustomStop,)), []) == (
        1, ['tool.py: error: loss is NaN'])


def test_a_bad_flag_is_one_usage_line_with_exit_code_2():
    code, lines = run_main(make_main(lambda: 0), ['--n', 'x'])
    assert code == 2 and lines == ["tool.py: error: argument --n: invalid int value: 'x' (see --help)"]


@pytest.mark.parametrize('argv, environment', [(['--debug'], None), ([], '1')])
def test_debug_lets_the_exception_through(argv, environment, monkeypatch):
    monkeypatch.delenv('TTS_DEBUG', raising=False)
    if environment:
        monkeypatch.setenv('TTS_DEBUG', environment)
    with pytest.raises(KeyError):
        make_main(fail(KeyError('x')))(argv)


def test_debug_is_not_in_the_namespace_and_is_documented():
    parser = ArgumentParser(prog='tool.py')
    assert vars(parser.parse_args(['--debug'])) == {}
    assert 'TTS_DEBUG=1' in parser.format_help()


def test_a_data_loader_workers_error_is_its_original_message():
    """torch re-raises a worker's exception with the worker's traceback in the message."""
    message = ('Caught FilelistError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n'
               '  File "x.py", line 1, in f\ncommon.filelist.FilelistError: list.txt:3: no such WAV file')
    assert error_message(ValueError(message)) == 'list.txt:3: no such WAV file'


def test_run_step_ends_the_caller_with_the_steps_code():
    with pytest.raises(SystemExit) as stop:
        run_step(make_main(fail(ValueError('bad'))), [])
    assert stop.value.code == 1
    run_step(make_main(lambda: 0), [])


def test_float_between_names_the_range():
    check = float_between(0.1, 10)
    assert check('2.5') == 2.5
    with pytest.raises(argparse.ArgumentTypeError, match='1e-9 is not a number from 0.1 to 10'):
        check('1e-9')
