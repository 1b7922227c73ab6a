"""From an input file of phrases to padded, length-sorted batches of symbol ids, and back to one (mel, audio) per
input line.

Input files: plain text, one phrase per line, or a `.tsv` file whose header names a `text` column (and optionally an
`output` column with the WAV file name of each row), as the FastPitch recipe's phrase files are. Long phrases are
split into sentences (and over-long sentences at clause breaks, then between words) so that every piece stays
within what an attention-based decoder can speak; the pieces of a phrase are joined again after synthesis, each
faded out and followed by a short pause.
"""
import csv
import math
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from common.stft import LOG_CLIP
from common.text import PAD_ID
from common.text.abbreviations import ABBREVIATIONS

MAX_PIECE_CHARS = 300  # about 20 s of speech at LJSpeech's pace: within Tacotron 2's default 2000 decoder steps
TSV_SUFFIX = '.tsv'
SILENT_MEL = math.log(LOG_CLIP)  # log-mel value of silence, for the pauses between pieces

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
                ids = processing.encode_text(text)
            for warning in caught:
                print(f'warning: {source}:{phrase.line_number}: {warning.message}', file=sys.stderr)
            if not ids:
                raise PhraseFileError(f'{source}:{phrase.line_number}: nothing left to speak after cleaning {text!r}')
            pieces.append((index, ids))
    return pieces


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


def join_pieces(pieces, pause_frames, hop_length, fade_samples):
    """Sentences (mel, audio) of one line -> one (mel, audio), each sentence faded out and followed by a pause of
    pause_frames (silent mel frames, zero audio) except the last; audio length stays mel frames * hop_length."""
    mels, audios = [], []
    for index, (mel, audio) in enumerate(pieces):
        if index:
            mels.append(torch.full((mel.size(0), pause_frames), SILENT_MEL))
            audios.append(torch.zeros(pause_frames * hop_length))
        mels.append(mel)
        audios.append(fade_out(audio, fade_samples))
    return torch.cat(mels, dim=1), torch.cat(audios)


def pieces_by_phrase(pieces, outputs, n_phrases):
    """The synthesized outputs of plan_pieces' pieces, grouped per phrase in input order."""
    grouped = [[] for _ in range(n_phrases)]
    for (phrase_index, _), output in zip(pieces, outputs):
        grouped[phrase_index].append(output)
    return grouped
