"""common/splits.py and its command line scripts/split_metadata.py: the reference sizes on LJSpeech, proportions and
floors on small corpora, determinism, every clip in exactly one split, the filelists and bad metadata."""
import importlib.util
from pathlib import Path

import pytest

from common.splits import SPLITS, MetadataError, read_metadata, split_ids, split_sizes, write_split_filelists

REPO_ROOT = Path(__file__).resolve().parents[1]


def clip_ids(n):
    return [f'LJ{number // 100:03d}-{number % 100:04d}' for number in range(n)]


def write_metadata(path, n):
    path.write_text(''.join(f'C{i:03d}|Raw {i}.|raw {i}.\n' for i in range(n)), encoding='utf-8')
    return path


def split_metadata_main(*flags):
    """scripts/split_metadata.py's main, run in this process (a script, not a module: loaded from its file)."""
    spec = importlib.util.spec_from_file_location('split_metadata', REPO_ROOT / 'scripts' / 'split_metadata.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(flag) for flag in flags])


def test_ljspeech_gets_the_reference_sizes():
    assert split_sizes(13100) == {'train': 12500, 'val': 100, 'test': 500}


@pytest.mark.parametrize('n, sizes', [
    (300, {'train': 274, 'val': 15, 'test': 11}),     # the embedded corpus: val n // 20, test in proportion
    (1310, {'train': 1244, 'val': 16, 'test': 50}),   # val floor of 16 above the reference's 10
    (2620, {'train': 2500, 'val': 20, 'test': 100}),  # the reference proportions again
    (40, {'train': 36, 'val': 2, 'test': 2}),
    (8, {'train': 6, 'val': 1, 'test': 1}),           # the tests' tiny corpus: one clip each to validate and test
    (3, {'train': 1, 'val': 1, 'test': 1}),
    (2, {'train': 2, 'val': 0, 'test': 0}),
    (1, {'train': 1, 'val': 0, 'test': 0}),
])
def test_small_corpora_keep_the_proportions_with_floors(n, sizes):
    assert split_sizes(n) == sizes


def test_sizes_always_add_up_and_val_grows_with_the_corpus():
    previous_val = 0
    for n in range(1, 20000, 7):
        sizes = split_sizes(n)
        assert sum(sizes.values()) == n and min(sizes.values()) >= 0, n
        assert sizes['val'] >= min(16, n // 20) and sizes['val'] >= previous_val, n
        previous_val = sizes['val']


def test_every_clip_lands_in_exactly_one_split():
    ids = clip_ids(300)
    splits = split_ids(ids)
    assert list(splits) == list(SPLITS)
    assert {split: len(members) for split, members in splits.items()} == split_sizes(300)
    assert sorted(clip for members in splits.values() for clip in members) == sorted(ids)
    assert all(members == sorted(members) for members in splits.values())


def test_split_depends_on_the_ids_and_seed_only():
    ids = clip_ids(300)
    assert split_ids(ids, seed=7) == split_ids(list(reversed(ids)), seed=7)  # input order does not matter
    assert split_ids(ids, seed=7) != split_ids(ids, seed=8)
    assert split_ids(ids) == split_ids(ids, seed=1234)  # the default seed of scripts/split_metadata.py


def test_held_out_clips_are_drawn_from_the_whole_corpus():
    val = split_ids(clip_ids(13100))['val']
    assert len({clip[:5] for clip in val}) > 50  # spread over the 131 chapters, not one block of them


def test_filelists_have_the_reference_names_and_lines(tmp_path):
    metadata = write_metadata(tmp_path / 'metadata.csv', 40)
    splits = write_split_filelists(metadata, tmp_path / 'lists', 'x')
    for split in SPLITS:
        lines = (tmp_path / 'lists' / f'x_audio_text_{split}_filelist.txt').read_text().splitlines()
        assert lines == [f'wavs/{clip}.wav|raw {int(clip[1:])}.' for clip in splits[split]]


def test_command_line_writes_the_same_split_as_the_function(tmp_path, capsys):
    metadata = write_metadata(tmp_path / 'metadata.csv', 40)
    split_metadata_main('--metadata', metadata, '--output-dir', tmp_path / 'cli', '--prefix', 'x')
    assert capsys.readouterr().out == f'train 36, val 2, test 2 clips -> {tmp_path / "cli"}\n'
    write_split_filelists(metadata, tmp_path / 'function', 'x')
    for split in SPLITS:
        name = f'x_audio_text_{split}_filelist.txt'
        assert (tmp_path / 'cli' / name).read_text() == (tmp_path / 'function' / name).read_text()


def test_normalized_column_is_used_and_the_text_when_it_is_empty(tmp_path):
    metadata = tmp_path / 'metadata.csv'
    metadata.write_text('A|Dr. Who|doctor who\nB|Plain text|\nC|Two columns\n', encoding='utf-8')
    assert read_metadata(metadata) == {'A': 'doctor who', 'B': 'Plain text', 'C': 'Two columns'}


@pytest.mark.parametrize('content, problem', [
    ('A|a|a\nB\n', ':2: has 1 columns, expected ID|text|normalized'),
    ('A|a|a\n|b|b\n', ':2: empty clip id or text'),
    ('A|a|a\nB|b|b\nA|c|c\n', ':3: clip id A already on line 1'),
    ('\n\n', ': has no clips'),
])
def test_bad_metadata_is_named_by_file_and_line(tmp_path, content, problem):
    metadata = tmp_path / 'metadata.csv'
    metadata.write_text(content, encoding='utf-8')
    with pytest.raises(MetadataError, match=f'^{metadata}{problem}$'):
        read_metadata(metadata)


def test_command_line_errors_are_one_line(tmp_path):
    latin1 = tmp_path / 'latin1.csv'
    latin1.write_bytes(b'A|caf\xe9|caf\xe9\n')
    for metadata, problem in ((tmp_path / 'absent.csv', 'no such metadata file'), (latin1, 'not UTF-8 text')):
        with pytest.raises(SystemExit) as exit_info:
            split_metadata_main('--metadata', metadata, '--output-dir', tmp_path)
        error = str(exit_info.value.code)
        assert error.startswith(f'error: {metadata}: {problem}') and '\n' not in error, error
