"""From an input file of phrases to padded, length-sorted batches of symbol ids, and back to one (mel, audio) per
input line.

Input files: plain text, one phrase per line, or a `.tsv` file whose header names a `text` column (and optionally an
`output` column with the WAV file name of each row), as the FastPitch recipe's phrase files are. Long phrases are
split into sentences (and over-long sentences at clause breaks, then between words) so that every piece stays
within what an attention-based decoder can speak; the pieces of a phrase are joined again after synthesis, each
faded out and followed by a short pause.
"""
import contextlib
import csv
import math
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from common.stft import LOG_CLIP
from common.text import PAD_ID, text_to_sequence
from common.text.abbreviations import ABBREVIATIONS

MAX_PIECE_CHARS = 300  # about 20 s of speech at LJSpeech's pace: within Tacotron 2's default 2000 decoder steps
# a piece's symbols may outnumber its characters (numbers and abbreviations spelled out) up to this many times
# before it is cut between words
MAX_SYMBOLS_PER_CHAR = 2
WINDOW_BATCHES = 4  # batches of pieces sorted by length together: enough to pad little, few outputs held at once
TSV_SUFFIX = '.tsv'
SILENT_MEL = math.log(LOG_CLIP)  # log-mel value of silence, for the pauses between pieces
SPACE_ID, = text_to_sequence(' ', [])

# A sentence ends at . ! or ? (closing quotes and brackets may follow), then white space.
_SENTENCE_END_RE = re.compile(r'(?<=[.!?])["\')\]]*\s+')
_CLAUSE_END_RE = re.compile(r'(?<=[,;:])\s+')
_LAST_WORD_RE = re.compile(r'(\w+)\.$')


class PhraseFileError(ValueError):
    """An input file that cannot be read as phrases; the message names the file (and line)."""


@dataclass(frozen=True)
class Phrase:
    line_number: int   # 1-based line of the input file, for messages
    text: str
    output_name: str   # WAV file name, e.g. audio_0.wav


def read_phrases(path):
    """The non-blank phrases of a text or TSV file. Outputs are named `audio_<k>.wav`, k the 0-based line of a
    text file (blank lines keep their number) or the 0-based data row of a TSV file, unless the TSV names them."""
    path = Path(path)
    if not path.is_file():
        raise PhraseFileError(f'{path}: no such input file')
    try:
        lines = path.read_text(encoding='utf-8-sig').splitlines()  # -sig: a leading BOM is not text
    except UnicodeDecodeError as error:
        raise PhraseFileError(f'{path}: not UTF-8 text ({error.reason} at byte {error.start})') from None
    phrases = _read_tsv(path, lines) if path.suffix == TSV_SUFFIX else [
        Phrase(number, line.strip(), f'audio_{number - 1}.wav')
        for number, line in enumerate(lines, start=1) if line.strip()]
    if not phrases:
        raise PhraseFileError(f'{path}: no text to synthesize (the file is empty or blank)')
    names = [phrase.output_name for phrase in phrases]
    for phrase in phrases:
        if names.count(phrase.output_name) > 1:
            raise PhraseFileError(f'{path}:{phrase.line_number}: output name {phrase.output_name!r} is used twice')
    return phrases


def _read_tsv(path, lines):
    if not lines:
        return []
    rows = list(csv.reader(lines, delimiter='\t', quoting=csv.QUOTE_NONE))
    header = [column.strip() for column in rows[0]]
    if 'text' not in header:
        raise PhraseFileError(f'{path}:1: the header has no "text" column (found: {", ".join(header)})')
    text_column = header.index('text')
    output_column = header.index('output') if 'output' in header else None
    phrases = []
    for row_index, row in enumerate(rows[1:]):
        line_number = row_index + 2
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise PhraseFileError(f'{path}:{line_number}: has {len(row)} tab-separated columns, the header has '
                                  f'{len(header)}')
        text = row[text_column].strip()
        if not text:
            raise PhraseFileError(f'{path}:{line_number}: empty "text" column')
        name = f'audio_{row_index}.wav' if output_column is None else Path(row[output_column].strip()).name
        if not name.endswith('.wav'):
            raise PhraseFileError(f'{path}:{line_number}: output name {name!r} must end in .wav')
        phrases.append(Phrase(line_number, text, name))
    return phrases


def split_into_pieces(text, max_chars=MAX_PIECE_CHARS):
    """Sentences of `text`; a sentence longer than max_chars is cut at clause breaks, then between words.

    Nothing is dropped: joining the pieces with single spaces gives `text` with its white space collapsed.
    """
    pieces = []
    for sentence in _sentences(text):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        for clause in _pack(_CLAUSE_END_RE.split(sentence), max_chars):
            pieces.extend([clause] if len(clause) <= max_chars else _pack(clause.split(), max_chars))
    return pieces


def _sentences(text):
    """Split at sentence ends, but not after an abbreviation ("Dr.") or an initial ("J."), nor where the next word
    starts in lower case ('"Are you sure?" she asked')."""
    sentences, start = [], 0
    for match in _SENTENCE_END_RE.finditer(text):
        last_word = _LAST_WORD_RE.search(text[start:match.start()])
        if last_word and (last_word.group(1).lower() in ABBREVIATIONS or len(last_word.group(1)) == 1):
            continue
        if text[match.end():match.end() + 1].islower():
            continue
        sentences.append(text[start:match.start()] + match.group().strip())
        start = match.end()
    sentences.append(text[start:])
    return [' '.join(sentence.split()) for sentence in sentences if sentence.strip()]


def _pack(chunks, max_chars):
    """Greedily join consecutive chunks with spaces into pieces of at most max_chars (a longer chunk stands alone)."""
    pieces = []
    for chunk in chunks:
        if pieces and len(pieces[-1]) + 1 + len(chunk) <= max_chars:
            pieces[-1] += ' ' + chunk
        else:
            pieces.append(chunk)
    return pieces


def length_sorted_batches(lengths, batch_size):
    """Indices into `lengths` grouped into batches of at most batch_size, longest first (least padding)."""
    if batch_size < 1:
        raise ValueError(f'batch size must be at least 1, got {batch_size}')
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def windowed_batches(lengths, batch_size, window_batches=WINDOW_BATCHES):
    """length_sorted_batches within consecutive windows of batch_size * window_batches pieces, in input order -> a
    list of windows, each a list of batches of indices into `lengths`. A window is synthesized whole before the next
    one starts, so only its outputs wait to be written, however long the input."""
    window = batch_size * window_batches
    return [[[start + i for i in batch] for batch in length_sorted_batches(lengths[start:start + window], batch_size)]
            for start in range(0, len(lengths), window)]


def pad_sequences(sequences):
    """Lists of symbol ids -> (ids (B, max_len) int64 padded with the pad symbol, lengths (B,) int64)."""
    lengths = torch.tensor([len(sequence) for sequence in sequences], dtype=torch.long)
    padded = torch.full((len(sequences), int(lengths.max())), PAD_ID, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        padded[row, :len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
    return padded, lengths


def plan_pieces(phrases, source, max_piece_chars, processing):
    """(phrase index, symbol ids) of every sentence piece, in input order, through the model's text front end
    (`processing.encode_text`). Unknown characters are reported with the `source` file and line they are on; a
    piece with nothing left to speak is an error."""
    pieces = []
    for index, phrase in enumerate(phrases):
        for text in split_into_pieces(phrase.text, max_piece_chars):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                try:
                    ids = processing.encode_text(text)
                except ValueError as error:  # the front end cannot read this text
                    raise PhraseFileError(f'{source}:{phrase.line_number}: {error}') from None
            for warning in caught:
                print(f'warning: {source}:{phrase.line_number}: {warning.message}', file=sys.stderr)
            if not ids:
                raise PhraseFileError(f'{source}:{phrase.line_number}: nothing left to speak after cleaning {text!r}')
            pieces += [(index, part) for part in split_at_spaces(ids, MAX_SYMBOLS_PER_CHAR * max_piece_chars)]
    return pieces


def split_at_spaces(ids, max_symbols):
    """Symbol ids cut between words into parts of at most max_symbols (a longer word is cut too): cleaning can make
    a short text long ("7" x 5,000 is read digit by digit), and a model's memory grows with a piece's length."""
    if len(ids) <= max_symbols:
        return [ids]
    words, word = [], []
    for symbol in ids:
        word.append(symbol)
        if symbol == SPACE_ID or len(word) == max_symbols:
            words.append(word)
            word = []
    parts = []
    for word in [*words, word] if word else words:
        if parts and len(parts[-1]) + len(word) <= max_symbols:
            parts[-1] = parts[-1] + word
        else:
            parts.append(word)
    return parts


def fade_out(audio, n_samples):
    """A linear fade over the last n_samples (all of a shorter clip)."""
    return fade_out_part(audio, 0, audio.numel(), n_samples)


def fade_out_part(part, offset, total, n_samples):
    """fade_out of a clip of `total` samples, applied to its part that starts at sample `offset` (streaming: the
    parts faded one by one join into the faded clip)."""
    fade_start = total - min(n_samples, total)
    first, end = max(fade_start, offset), offset + part.numel()
    if first >= end:
        return part
    part = part.clone()
    part[first - offset:] *= torch.linspace(1.0, 0.0, total - fade_start)[first - fade_start:end - fade_start]
    return part


class LineAssembler:
    """The synthesized pieces, handed to `add` in input order, joined into their lines as they come: each piece
    faded out and followed by a pause of pause_frames (silent mel frames, zero audio) except the line's last, so a
    line's audio is its mel frames * hop_length samples. open_line(k) is a context that yields write(audio) for line
    k (its WAV file), entered at the line's first piece and left after its last: a line is written while it is made,
    never held whole. With save_mel, save_mel(k, mel) gets each line's joined mel.

    Use it as a context: an error leaves the line being written through its context's error path."""

    def __init__(self, piece_lines, open_line, pause_frames, hop_length, fade_samples, save_mel=None):
        self.piece_lines = piece_lines  # the line of each piece, in input order
        self.last_piece = {line: index for index, line in enumerate(piece_lines)}
        self.open_line, self.save_mel = open_line, save_mel
        self.pause_frames, self.hop_length, self.fade_samples = pause_frames, hop_length, fade_samples
        self.next_piece = 0
        self.line_context = contextlib.ExitStack()
        self.write, self.mels = None, []

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        return self.line_context.__exit__(*exception)

    def add(self, index, mel, audio):
        if index != self.next_piece:
            raise ValueError(f'piece {index} came before piece {self.next_piece}: pieces are added in input order')
        line = self.piece_lines[index]
        parts = [mel]
        if index == 0 or self.piece_lines[index - 1] != line:
            self.write = self.line_context.enter_context(self.open_line(line))
        else:
            self.write(torch.zeros(self.pause_frames * self.hop_length))
            parts.insert(0, torch.full((mel.size(0), self.pause_frames), SILENT_MEL))
        self.write(fade_out(audio, self.fade_samples))
        if self.save_mel is not None:  # only then is a line's mel kept until its end
            self.mels += parts
        if index == self.last_piece[line]:
            self.line_context.close()
            if self.save_mel is not None:
                self.save_mel(line, torch.cat(self.mels, dim=1))
            self.mels = []
        self.next_piece += 1


def pieces_by_phrase(pieces, outputs, n_phrases):
    """The synthesized outputs of plan_pieces' pieces, grouped per phrase in input order."""
    grouped = [[] for _ in range(n_phrases)]
    for (phrase_index, _), output in zip(pieces, outputs):
        grouped[phrase_index].append(output)
    return grouped
