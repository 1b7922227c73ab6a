"""The embedded eSpeak NG corpus: layout (the corpus only, no filelists), its split into filelists like LJSpeech's,
audio format, timings, determinism, resume, and its errors; even shares (common/corpus/timings.py)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from common import splits
from common.corpus import build, espeak
from common.corpus.sentences import sentence
from common.corpus.timings import PAUSE_PREFIX, even_shares
from common.text.cleaners import english_cleaners
from common.text.symbols import symbols
from tests.commands import check_main, run_main
from tests.conftest import TINY_CORPUS_CLIPS as TINY_CLIPS

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_FILES = ['corpus_info.json', 'metadata.csv', 'timings', 'wavs']  # all that the builder writes


def build_corpus(root, *flags):
    """Run the command line as a user would."""
    check_main(build.main, ['--output', root, '--num-clips', TINY_CLIPS, *flags])


def read_metadata(root):
    return [line.split('|') for line in (root / 'metadata.csv').read_text().splitlines()]


def test_metadata_lines_are_id_text_normalized(corpus_dir):
    rows = read_metadata(corpus_dir)
    assert [row[0] for row in rows] == [f'ES001-{number:04d}' for number in range(1, TINY_CLIPS + 1)]
    for identifier, text, normalized in rows:
        assert normalized == english_cleaners(text)
        assert set(normalized) <= set(symbols), identifier


def test_metadata_splits_into_filelists_in_the_reference_format(corpus_dir):
    """The fixture's filelists come from metadata.csv through common/splits.py, as the demo's do."""
    normalized_by_id = {row[0]: row[2] for row in read_metadata(corpus_dir)}
    seen = []
    for split, size in splits.split_sizes(TINY_CLIPS).items():
        path = corpus_dir / 'filelists' / f'espeak_audio_text_{split}_filelist.txt'
        lines = path.read_text().splitlines()
        assert len(lines) == size > 0, path.name
        for line in lines:
            audio_path, text = line.split('|')
            identifier = re.fullmatch(r'wavs/(ES\d{3}-\d{4})\.wav', audio_path).group(1)
            assert (corpus_dir / audio_path).is_file()
            assert text == normalized_by_id[identifier]
            seen.append(identifier)
    assert sorted(seen) == sorted(normalized_by_id), 'every clip in exactly one split'


def test_wavs_are_22050_hz_mono_16_bit_and_1_to_10_s(corpus_dir):
    for identifier, _, _ in read_metadata(corpus_dir):
        info = sf.info(str(corpus_dir / 'wavs' / f'{identifier}.wav'))
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, 'PCM_16')
        assert 1.0 <= info.duration <= 10.0


def test_corpus_info_records_what_made_the_audio(corpus_dir, espeak_backend):
    info = json.loads((corpus_dir / 'corpus_info.json').read_text())
    assert info['backend'] == espeak_backend.name
    assert re.fullmatch(r'\d+\.\d+.*', info['version'])
    assert (info['voice'], info['sampling_rate']) == ('en-us+f3', 22050)
    assert {'rate', 'pitch', 'seed'} <= set(info)


def test_timings_cover_every_clip(corpus_dir):
    for identifier, _, normalized in read_metadata(corpus_dir):
        timings = json.loads((corpus_dir / 'timings' / f'{identifier}.json').read_text())
        num_samples = timings['num_samples']
        assert timings['sampling_rate'] == 22050
        assert timings['text'] == normalized
        assert sf.info(str(corpus_dir / 'wavs' / f'{identifier}.wav')).frames == num_samples

        starts = [phoneme['start_sample'] for phoneme in timings['phonemes']]
        assert starts == sorted(starts)
        assert 0 <= starts[0] and starts[-1] < num_samples
        assert any(not phoneme['name'].startswith(PAUSE_PREFIX) for phoneme in timings['phonemes'])

        text = timings['text']
        assert timings['words'], identifier
        word_starts = [word['start_sample'] for word in timings['words']]
        assert word_starts == sorted(word_starts) and word_starts[-1] < num_samples
        for word in timings['words']:
            begin, end = word['text_position'], word['text_position'] + word['length']
            assert 0 <= begin < end <= len(text)
            assert text[begin].isalnum(), f'{identifier}: word event {text[begin:end]!r} starts on {text[begin]!r}'
            assert begin == 0 or not text[begin - 1].isalnum(), f'{identifier}: {text[begin - 1:end]!r}'
            assert end == len(text) or not text[end].isalnum(), f'{identifier}: {text[begin:end + 1]!r}'



def test_even_shares_split_a_total_evenly():
    assert even_shares(7, 3) == [2, 2, 3] and even_shares(0, 2) == [0, 0] and even_shares(2, 4) == [0, 1, 0, 1]
    assert even_shares(11, 4) == [2, 3, 3, 3] and sum(even_shares(457, 91)) == 457


def corpus_files(root):
    """What the builder writes, by path: everything but the filelists that the fixture adds."""
    return {path.relative_to(root): path.read_bytes() for path in sorted(root.rglob('*'))
            if path.is_file() and path.relative_to(root).parts[0] != 'filelists'}


def test_build_is_deterministic_and_writes_only_the_corpus(corpus_dir, tmp_path):
    build_corpus(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == CORPUS_FILES
    assert corpus_files(tmp_path) == corpus_files(corpus_dir)


def test_resume_rewrites_only_missing_clips(corpus_dir, tmp_path):
    root = tmp_path / 'corpus'
    shutil.copytree(corpus_dir, root)
    deleted = root / 'wavs' / 'ES001-0003.wav'
    deleted.unlink()
    kept = [path for folder in ('wavs', 'timings') for path in (root / folder).iterdir()
            if not path.name.startswith('ES001-0003')]
    assert len(kept) == 2 * (TINY_CLIPS - 1)
    mtimes = {path: path.stat().st_mtime_ns for path in kept}

    build_corpus(root)

    assert deleted.read_bytes() == (corpus_dir / 'wavs' / 'ES001-0003.wav').read_bytes()
    assert {path: path.stat().st_mtime_ns for path in kept} == mtimes
    assert corpus_files(root) == corpus_files(corpus_dir)


def test_resume_refuses_a_corpus_made_with_other_settings(corpus_dir, tmp_path):
    root = tmp_path / 'corpus'
    shutil.copytree(corpus_dir, root)
    with pytest.raises(SystemExit) as exit_info:
        build_corpus(root, '--seed', '99')
    assert 'seed' in str(exit_info.value.code) and 'corpus_info.json' in str(exit_info.value.code)


def test_unknown_voice_is_a_one_line_error(espeak_backend, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        build_corpus(tmp_path, '--voice', 'xx-no-such-voice')
    assert exit_info.value.code == "python -m common.corpus.build: error: eSpeak NG has no voice 'xx-no-such-voice'"


def test_bad_flag_exits_with_usage_error(tmp_path):
    code, errors = run_main(build.main, ['--output', tmp_path, '--num-clips', '0'])
    assert code == 2 and '--num-clips must be at least 1, got 0' in errors[0]


def test_missing_library_says_how_to_install_one(monkeypatch):
    real_find_spec = espeak.importlib.util.find_spec
    monkeypatch.setattr(espeak.importlib.util, 'find_spec',
                        lambda name, *args: None if name == 'espeakng_loader' else real_find_spec(name, *args))
    monkeypatch.setattr(espeak.ctypes.util, 'find_library', lambda name: None)
    with pytest.raises(espeak.EspeakError, match='pip install espeakng-loader.*apt-get install espeak-ng'):
        espeak.find_backend()


def test_synthesize_refuses_a_second_clip_in_one_process(espeak_backend):
    # In a child process: this test process must never load eSpeak (the corpus workers are forked from it).
    script = ('from common.corpus import espeak\n'
              'backend = espeak.find_backend()\n'
              'espeak.synthesize(backend, "one", "en-us+f3", 165, 50)\n'
              'espeak.synthesize(backend, "two", "en-us+f3", 165, 50)\n')
    result = subprocess.run([sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert 'only one clip per process' in result.stderr


def test_clip_ids_follow_ljspeech_chapters():
    assert [build.clip_id(n) for n in (1, 100, 101, 250)] == ['ES001-0001', 'ES001-0100', 'ES002-0001',
                                                              'ES003-0050']


def test_sentences_depend_only_on_seed_clip_and_attempt():
    assert sentence(7, 12, 0) == sentence(7, 12, 0)
    assert len({sentence(7, 12, attempt) for attempt in range(5)}) > 1
    assert [sentence(7, n, 0) for n in range(1, 20)] != [sentence(8, n, 0) for n in range(1, 20)]


def test_sentences_cover_what_the_front_end_must_normalise():
    text = ' '.join(sentence(1234, number, 0) for number in range(1, 301))
    for needle in ['$', '\u00a3', '%', '.5', ',0', 'st ', 'nd ', "o'clock", 'Dr.', 'Mr.', 'St. ', 'Jr.',
                   '?', '!', ';', ':', '(', "'"]:
        assert needle in text, f'no sentence contains {needle!r}'
    assert re.search(r'\b1[89]\d\d\b|\b20[0-2]\d\b', text), 'no year'
    spoken_lengths = [len(english_cleaners(sentence(1234, number, 0)).split()) for number in range(1, 301)]
    assert min(spoken_lengths) <= 5 and max(spoken_lengths) >= 25, 'short and long sentences'
