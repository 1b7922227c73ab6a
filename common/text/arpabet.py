"""Words replaced by their dictionary pronunciation ("cat" -> "{K AE1 T}"), as FastPitch 1.1 does with --p-arpabet.

Only a word with exactly one pronunciation is replaced; heteronyms and ambiguous words stay letters. A word the
dictionary lacks loses a final "'s" or "s" and, when that stem is replaced, gets " Z" after it ("dogs" ->
"{D AO1 G Z}", "smith's" -> "{S M IH1 TH Z}"): 1.1's rule, which says Z where English says S ("cats").
"""
import random
import re

# A word is letters, with an apostrophe and one or two letters at most ("smith's", "we'll"); everything else,
# {ARPAbet} groups included, passes through. A lone brace matches neither and is dropped, as in 1.1.
_WORD_OR_OTHER_RE = re.compile(r"([a-zA-ZÀ-ž]+'[a-zA-ZÀ-ž]{1,2}|[a-zA-ZÀ-ž]+)|(\{[^}]+\}|[^a-zA-ZÀ-ž{}]+)")


def _plural_stem(word):
    if len(word) > 2 and word.endswith("'s"):
        return word[:-2]
    if len(word) > 1 and word.endswith('s'):
        return word[:-1]
    return None


def pronounce(word, dictionary):
    """The word's one pronunciation ('K AE1 T'), or None where it stays letters."""
    if dictionary.is_heteronym(word):
        return None
    pronunciations = dictionary.lookup(word)
    if pronunciations is None:
        stem = _plural_stem(word)
        stem_pronunciation = stem and pronounce(stem, dictionary)
        return stem_pronunciation + ' Z' if stem_pronunciation else None
    return pronunciations[0] if len(pronunciations) == 1 else None


def words_to_arpabet(text, dictionary, p_arpabet=1.0, rng=random):
    """`text` with each word, with probability p_arpabet (drawn from rng.random()), in {ARPAbet} where it can be."""
    pieces = []
    for word, other in _WORD_OR_OTHER_RE.findall(text):
        if word and (p_arpabet >= 1 or rng.random() < p_arpabet):
            pronunciation = pronounce(word, dictionary)
            pieces.append('{%s}' % pronunciation if pronunciation else word)
        else:
            pieces.append(word or other)
    return ''.join(pieces)
