"""Words mixing letters and digits split apart as FastPitch 1.1's english_cleaners_v2 splits them.

"MP3" -> "MP 3", "A380" -> "A 3 80", "B707" -> "B 7 0 7": letters and digits are separated, and runs of up to four
digits are cut into pairs to be read like years ("A1234" -> "A 12 34"). A number keeps its suffix ("AK47's" ->
"AK 47's"; "1990s" and "21st" stay whole). Digits alone are not touched.
"""
import re

_MIXED_RE = re.compile(r"(?:[a-zA-Z]+[0-9]|[0-9]+[a-zA-Z])[a-zA-Z0-9']*")
_DIGITS_RE = re.compile(r'([0-9]+)')
_NUMBER_SUFFIXES = ("'s", 's', 'th', 'nd', 'st', 'rd')


def _digit_groups(digits):
    """'1234' -> ['12', '34'], '123' -> ['1', '23'], '205' -> ['2', '0', '5'], '200' -> ['200']."""
    if len(digits) > 2 and digits[-2] == '0':
        return [digits] if digits[-1] == '0' else [digits[:-2], digits[-2], digits[-1]]
    head = digits[:len(digits) % 2]
    return ([head] if head else []) + [digits[i:i + 2] for i in range(len(head), len(digits), 2)]


def _split(m):
    pieces = _DIGITS_RE.split(m.group(0))
    # Only one empty end is dropped, as in 1.1: "3D4" keeps a leading empty piece (a harmless extra space).
    if pieces[-1] == '':
        pieces.pop()
    elif pieces[0] == '':
        pieces.pop(0)
    if pieces[-1] in _NUMBER_SUFFIXES and pieces[-2].isdigit():
        pieces[-2:] = [pieces[-2] + pieces[-1]]
    split = []
    for piece in pieces:
        split += _digit_groups(piece) if piece.isdigit() and len(piece) < 5 else [piece]
    return ' '.join(split)


def split_letters_and_digits(text):
    return _MIXED_RE.sub(_split, text)
