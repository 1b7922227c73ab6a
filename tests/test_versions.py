"""The oldest Python we support is 3.10 (the NGC 24.x images'); CI runs 3.11. Every module must compile under 3.10,
and none may call what the standard library only gained in 3.11 or later (a Popen argument of 3.11 once broke every
multi-GPU run there). The torch side of the range (2.5 to today's) is tested where it differs, with stand-ins of
the older API (tests/test_precision.py: the TF32 switches)."""
import ast
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
OLDEST_PYTHON = '3.10'
# What the standard library gained in Python 3.11 or later: keyword arguments, modules, names of a module
# (matched as `module.name` or `from module import name`, so a local variable of the same name is not a use), builtins.
NEWER_KEYWORDS = {'process_group'}                       # subprocess.Popen, 3.11
NEWER_MODULES = {'tomllib'}
NEWER_MODULE_NAMES = {
    'typing': {'Self', 'LiteralString', 'Never', 'assert_never', 'reveal_type', 'override'},
    'enum': {'StrEnum'}, 'asyncio': {'TaskGroup'}, 'hashlib': {'file_digest'}, 'contextlib': {'chdir'},
    'datetime': {'UTC'}, 'itertools': {'batched'},
}
NEWER_BUILTINS = {'ExceptionGroup', 'BaseExceptionGroup'}


def python_files():
    listed = subprocess.run(['git', 'ls-files', '*.py'], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return [REPO_ROOT / name for name in listed.stdout.split()]


def oldest_python():
    """An interpreter of the oldest version that runs (a pyenv shim may exist without its version installed)."""
    candidates = [shutil.which(f'python{OLDEST_PYTHON}'),
                  *map(str, Path.home().glob(f'.pyenv/versions/{OLDEST_PYTHON}.*/bin/python{OLDEST_PYTHON}'))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, '--version'], capture_output=True).returncode == 0:
            return candidate
    return None


def test_every_module_compiles_under_the_oldest_python(tmp_path):
    python = oldest_python()
    if python is None:
        pytest.skip(f'no python{OLDEST_PYTHON} on this machine')
    script = ('import sys, py_compile\n'
              'for path in sys.argv[2:]:\n'
              '    py_compile.compile(path, cfile=sys.argv[1] + "/c.pyc", doraise=True)\n')
    result = subprocess.run([python, '-c', script, str(tmp_path), *map(str, python_files())], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def newer_standard_library_uses(path):
    uses = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.keyword) and node.arg in NEWER_KEYWORDS:
            uses.append(f'{path.name}:{node.lineno}: {node.arg}=')
        elif isinstance(node, ast.Import):
            uses += [f'{path.name}:{node.lineno}: {alias.name}' for alias in node.names if alias.name in NEWER_MODULES]
        elif isinstance(node, ast.ImportFrom):
            newer = NEWER_MODULE_NAMES.get(node.module, set())
            uses += [f'{path.name}:{node.lineno}: {node.module}.{alias.name}' for alias in node.names
                     if alias.name in newer or node.module in NEWER_MODULES]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in NEWER_MODULE_NAMES.get(node.value.id, set()):
                uses.append(f'{path.name}:{node.lineno}: {node.value.id}.{node.attr}')
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            uses.append(f'{path.name}:{node.lineno}: {node.id}')
    return uses


def test_nothing_of_the_standard_library_newer_than_the_oldest_python_is_used():
    uses = [use for path in python_files() for use in newer_standard_library_uses(path)]
    assert not uses, uses


def test_the_scan_finds_a_newer_argument(tmp_path):
    sample = tmp_path / 'sample.py'
    sample.write_text('import subprocess, tomllib\nsubprocess.Popen(["true"], process_group=0)\n'
                      'import typing, os\nfrom itertools import batched\nf = typing.override\n'
                      'override = os.chdir  # a local name and an old function: not uses\n')
    assert sorted(newer_standard_library_uses(sample)) == ['sample.py:1: tomllib', 'sample.py:2: process_group=',
                                                   'sample.py:4: itertools.batched', 'sample.py:5: typing.override']
