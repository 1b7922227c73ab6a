"""Acronyms spelled letter by letter, as FastPitch 1.1's english_cleaners_v2 writes them: "GPU" -> "G.P.U.".

Any run of two or more capitals is spelled, with the lowercase letters just before it ("macOS" -> "m.a.c.O.S.");
a trailing "s" becomes "'s" ("GPUs" -> "G.P.U.'s"), and a period after the acronym merges with the last letter's.
Some words are spelled differently ("NVIDIA" -> "N.VIDIA", "email" -> "e-mail").
"""
import re

SPELLING_EXCEPTIONS = {'NVIDIA': 'N.VIDIA'}
_EMAIL_RE = re.compile(r'\bemail\b', re.IGNORECASE)
_ACRONYM_RE = re.compile(r'([a-z]*[A-Z][A-Z]+)s?\.?')


def _spell(m):
    letters, written = m.group(1), m.group(0)
    spelled = SPELLING_EXCEPTIONS.get(letters) or '.'.join(letters) + '.'
    # 1.1 looks for an "s" anywhere in the match, the lowercase letters in front included.
    if 's' in written:
        spelled += "'s"
    if written.endswith('.') and not spelled.endswith('.'):
        spelled += '.'
    return spelled


def spell_acronyms(text):
    return _ACRONYM_RE.sub(_spell, _EMAIL_RE.sub('e-mail', text))
