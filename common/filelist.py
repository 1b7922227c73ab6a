"""Filelists: `|`-separated lines of dataset-relative paths, a transcript and an optional speaker id; reading and
writing them, and loading what a line holds (its transcript as symbol ids, the tensors its paths name).

Every problem is reported as `filelist:line: problem` on one line (a FilelistError), so a bad line in a list of
thousands can be found and fixed without a traceback.
"""
from dataclasses import dataclass
from pathlib import Path

import torch

from common.fileio import TensorFileError, load_tensor, open_atomic
from common.text import text_to_sequence

SEPARATOR = '|'


class FilelistError(ValueError):
    """A filelist line (or a file it names) that cannot be used; the message starts with `filelist:line:`."""

    def __init__(self, message, line_number=None):
        super().__init__(message)
        self.line_number = line_number  # None for problems of the whole file


@dataclass(frozen=True)
class FilelistEntry:
    filelist: Path
    line_number: int         # 1-based, as editors show it
    paths: tuple             # the path columns, relative to the dataset folder, as written
    text: str
    speaker: int | None      # None when the line has no speaker column

    @property
    def location(self):
        return f'{self.filelist}:{self.line_number}'

    @property
    def clip_id(self):
        """The clip's name: the stem of its first path (`wavs/LJ001-0001.wav` -> `LJ001-0001`)."""
        return Path(self.paths[0]).stem

    def error(self, problem):
        return FilelistError(f'{self.location}: {problem}', self.line_number)


def read_filelist(filelist, n_path_columns, on_error=None):
    """Parse a filelist whose lines are `path_1|...|path_n|text[|speaker]` -> list of FilelistEntry.

    Blank lines are skipped. A line with the wrong number of columns, an empty path or transcript, a non-integer
    speaker column, or a speaker column on some lines only raises FilelistError naming the line, or, when
    `on_error` is given, is passed to it as that error and left out.
    """
    filelist = Path(filelist)
    if not filelist.is_file():
        raise FilelistError(f'{filelist}: no such filelist')
    try:
        lines = filelist.read_text(encoding='utf-8').split('\n')  # not splitlines(): it also splits at U+2028 etc.
    except UnicodeDecodeError as error:
        raise FilelistError(f'{filelist}: not UTF-8 text ({error.reason} at byte {error.start})') from None
    entries = []
    for line_number, line in enumerate(lines, start=1):
        line = line.rstrip('\r')
        if not line.strip():
            continue
        try:
            entry = _parse_line(filelist, line_number, line, n_path_columns)
            if entries and (entry.speaker is None) != (entries[0].speaker is None):
                raise entry.error(f'speaker column present on line {entries[0].line_number} or here but not '
                                  'both: give every line a speaker id or none')
        except FilelistError as error:
            if on_error is None:
                raise
            on_error(error)
            continue
        entries.append(entry)
    if not entries and on_error is None:
        raise FilelistError(f'{filelist}: has no entries')
    return entries


def _parse_line(filelist, line_number, line, n_path_columns):
    def error(problem):
        return FilelistError(f'{filelist}:{line_number}: {problem}', line_number)

    columns = line.split(SEPARATOR)
    expected = f'{n_path_columns + 1} columns (paths and text) or {n_path_columns + 2} (with a speaker id)'
    if len(columns) not in (n_path_columns + 1, n_path_columns + 2):
        raise error(f'has {len(columns)} columns separated by "{SEPARATOR}", expected {expected}')
    paths = tuple(column.strip() for column in columns[:n_path_columns])
    if not all(paths):
        raise error('empty path column')
    text = columns[n_path_columns].strip()
    if not text:
        raise error('empty transcript')
    speaker = None
    if len(columns) == n_path_columns + 2:
        try:
            speaker = int(columns[-1])
        except ValueError:
            raise error(f'speaker id {columns[-1]!r} is not an integer') from None
        if speaker < 0:
            raise error(f'speaker id {speaker} is negative')
    return FilelistEntry(filelist, line_number, paths, text, speaker)


def write_filelist(path, rows):
    """Write rows (sequences of column strings) as a filelist, atomically (common/fileio.py)."""
    with open_atomic(path, 'w', encoding='utf-8') as out:
        for row in rows:
            out.write(SEPARATOR.join(str(column) for column in row) + '\n')


def entry_text_ids(entry, text_cleaners):
    """The entry's transcript as symbol ids (int64 tensor) of the 1.0 front end; see encoded_text_ids."""
    return encoded_text_ids(entry, lambda text: text_to_sequence(text, text_cleaners))


def encoded_text_ids(entry, encode):
    """checked_text_ids of encode(entry.text): a transcript the front end cannot read is an error at its line."""
    try:
        ids = encode(entry.text)
    except ValueError as error:
        raise entry.error(f'transcript: {error}') from None
    return checked_text_ids(entry, ids)


def checked_text_ids(entry, ids):
    """The ids a front end made of the entry's transcript as an int64 tensor; none at all is an error."""
    if not ids:
        raise entry.error(f'transcript {entry.text!r} has no known symbol')
    return torch.tensor(ids, dtype=torch.long)


def load_entry_tensor(entry, path, what):
    """The tensor saved in `path` (named by the entry), with problems reported at the entry's line."""
    try:
        return load_tensor(path, what)
    except TensorFileError as error:
        raise entry.error(str(error)) from None


def load_mel_file(entry, path, n_mel_channels):
    """A saved (n_mel_channels, frames) float mel, as float32."""
    mel = load_entry_tensor(entry, path, 'mel')
    if not (mel.dim() == 2 and mel.size(0) == n_mel_channels and mel.is_floating_point()):
        raise entry.error(f'{path}: expected a float mel of shape ({n_mel_channels}, frames), got {mel.dtype} '
                          f'{tuple(mel.shape)}')
    return mel.float()
