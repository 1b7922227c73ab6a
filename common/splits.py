"""The train/val/test split of a corpus, the one used everywhere: the LJSpeech recipe (scripts/split_metadata.py,
scripts/prepare_dataset.sh), the demo on the embedded corpus and the tests' fixtures.

Sizes for n clips (split_sizes):
    LJSpeech's 13,100 clips get the reference's 12,500 / 100 / 500. Other sizes keep those proportions, with floors
    for small corpora: val holds at least min(16, n // 20) clips (a validation loss over one or two clips is noise;
    300 clips give 15), and val and test at least one clip each when n >= 3 (training needs a validation list);
    train gets the rest.
Which clips (split_ids):
    the IDs sorted, then shuffled by a generator seeded with `seed`: the same IDs and seed always give the same split.

Input and output (write_split_filelists): LJSpeech's metadata.csv, lines `ID|text|normalized text`, becomes
OUTPUT_DIR/<prefix>_audio_text_{train,val,test}_filelist.txt, lines `wavs/ID.wav|normalized text` (the text when
the normalized column is empty).
"""
import random
from pathlib import Path

from common.filelist import write_filelist

SPLITS = ('train', 'val', 'test')
REFERENCE_SIZES = {'train': 12500, 'val': 100, 'test': 500}  # LJSpeech in the NVIDIA reference filelists
REFERENCE_TOTAL = sum(REFERENCE_SIZES.values())
VAL_FLOOR_CAP = 16        # val gets at least min(VAL_FLOOR_CAP, n // VAL_FLOOR_DIVISOR) clips
VAL_FLOOR_DIVISOR = 20
DEFAULT_SEED = 1234


class MetadataError(ValueError):
    """A metadata.csv that cannot be split; the message names the file (and line)."""


def split_sizes(n_clips):
    """{'train', 'val', 'test'}: how many of `n_clips` clips each split gets (see the module docstring)."""
    held_out_floor = 1 if n_clips >= 3 else 0
    val = max(_reference_share('val', n_clips), min(VAL_FLOOR_CAP, n_clips // VAL_FLOOR_DIVISOR), held_out_floor)
    test = max(_reference_share('test', n_clips), held_out_floor)
    return {'train': n_clips - val - test, 'val': val, 'test': test}


def _reference_share(split, n_clips):
    return round(REFERENCE_SIZES[split] * n_clips / REFERENCE_TOTAL)


def split_ids(clip_ids, seed=DEFAULT_SEED):
    """{'train', 'val', 'test': sorted list of clip IDs}, every ID in exactly one split, the same for the same seed."""
    shuffled = sorted(clip_ids)
    random.Random(seed).shuffle(shuffled)
    splits, start = {}, 0
    for split, size in split_sizes(len(shuffled)).items():
        splits[split] = sorted(shuffled[start:start + size])
        start += size
    return splits


def read_metadata(path):
    """{clip ID: transcript} from metadata.csv `ID|text|normalized` lines (the normalized text, else the text)."""
    texts, first_line = {}, {}
    for line_number, line in enumerate(_metadata_lines(path), start=1):
        if not line.strip():
            continue
        columns = line.rstrip('\r').split('|')
        if len(columns) not in (2, 3):
            raise MetadataError(f'{path}:{line_number}: has {len(columns)} columns, expected ID|text|normalized')
        clip_id, text = columns[0].strip(), columns[-1].strip() or columns[1].strip()
        if not clip_id or not text:
            raise MetadataError(f'{path}:{line_number}: empty clip id or text')
        if clip_id in texts:
            raise MetadataError(f'{path}:{line_number}: clip id {clip_id} already on line {first_line[clip_id]}')
        texts[clip_id], first_line[clip_id] = text, line_number
    if not texts:
        raise MetadataError(f'{path}: has no clips')
    return texts


def _metadata_lines(path):
    try:
        return Path(path).read_text(encoding='utf-8').split('\n')  # not splitlines(): it also splits at U+2028
    except FileNotFoundError:
        raise MetadataError(f'{path}: no such metadata file') from None
    except UnicodeDecodeError as error:
        raise MetadataError(f'{path}: not UTF-8 text ({error.reason} at byte {error.start})') from None


def audio_filelist_path(output_dir, prefix, split):
    return Path(output_dir) / f'{prefix}_audio_text_{split}_filelist.txt'


def write_split_filelists(metadata, output_dir, prefix, seed=DEFAULT_SEED):
    """Split the clips of `metadata` (a metadata.csv) and write one audio filelist per split -> the split."""
    texts = read_metadata(metadata)
    splits = split_ids(texts, seed)
    for split, clip_ids in splits.items():
        write_filelist(audio_filelist_path(output_dir, prefix, split),
                       [(f'wavs/{clip_id}.wav', texts[clip_id]) for clip_id in clip_ids])
    return splits
