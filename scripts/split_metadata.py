"""Split an LJSpeech-style metadata.csv into train/val/test filelists, deterministically.

    python scripts/split_metadata.py --metadata D/metadata.csv --output-dir filelists --prefix ljs

metadata.csv lines are `ID|text|normalized text` (the normalized column is used, the text when it is empty).
Writes OUTPUT_DIR/<prefix>_audio_text_{train,val,test}_filelist.txt with lines `wavs/ID.wav|normalized text`.
The sizes are the reference's 12,500 / 100 / 500 for LJSpeech's 13,100 clips; a corpus of another size gets
val and test in the same proportions (at least one clip each when there are three or more), train the rest.
Clips are shuffled with a seeded generator (sorted by ID first), so the same metadata always gives the same split.
"""
import argparse
import random
import sys
from pathlib import Path

REFERENCE_SIZES = {'train': 12500, 'val': 100, 'test': 500}
REFERENCE_TOTAL = sum(REFERENCE_SIZES.values())
SPLITS = ('train', 'val', 'test')


def read_metadata(path):
    """[(clip id, text)] from `ID|text|normalized` lines; errors name the file and line."""
    rows = []
    with open(path, encoding='utf-8') as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            columns = line.rstrip('\r\n').split('|')
            if len(columns) not in (2, 3):
                raise ValueError(f'{path}:{line_number}: has {len(columns)} columns, expected ID|text|normalized')
            clip_id, text = columns[0].strip(), (columns[-1].strip() or columns[1].strip())
            if not clip_id or not text:
                raise ValueError(f'{path}:{line_number}: empty clip id or text')
            rows.append((clip_id, text))
    if not rows:
        raise ValueError(f'{path}: has no clips')
    return rows


def split_sizes(total):
    """{'train', 'val', 'test'} counts for `total` clips in the reference proportions."""
    held_out = {split: round(REFERENCE_SIZES[split] * total / REFERENCE_TOTAL) for split in ('val', 'test')}
    if total >= 3:
        held_out = {split: max(1, size) for split, size in held_out.items()}
    return {'train': total - sum(held_out.values()), **held_out}


def split_rows(rows, seed):
    shuffled = sorted(rows)
    random.Random(seed).shuffle(shuffled)
    sizes = split_sizes(len(shuffled))
    splits, start = {}, 0
    for split in SPLITS:
        splits[split] = sorted(shuffled[start:start + sizes[split]])
        start += sizes[split]
    return splits


def filelist_path(output_dir, prefix, split):
    return Path(output_dir) / f'{prefix}_audio_text_{split}_filelist.txt'


def write_splits(splits, output_dir, prefix):
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        path = filelist_path(output_dir, prefix, split)
        tmp_path = path.with_name(f'.{path.name}.tmp')
        tmp_path.write_text(''.join(f'wavs/{clip_id}.wav|{text}\n' for clip_id, text in rows), encoding='utf-8')
        tmp_path.replace(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Deterministic train/val/test split of a metadata.csv.')
    parser.add_argument('--metadata', required=True, type=Path, help='metadata.csv (ID|text|normalized)')
    parser.add_argument('--output-dir', default=Path('filelists'), type=Path, help='Folder of the filelists')
    parser.add_argument('--prefix', default='ljs', help='Filelist name prefix: <prefix>_audio_text_<split>_filelist')
    parser.add_argument('--seed', type=int, default=1234, help='Seed of the shuffle')
    args = parser.parse_args(argv)
    try:
        splits = split_rows(read_metadata(args.metadata), args.seed)
        write_splits(splits, args.output_dir, args.prefix)
    except (ValueError, OSError) as error:
        sys.exit(f'error: {error}')
    print(', '.join(f'{split} {len(rows)}' for split, rows in splits.items()) + f' clips -> {args.output_dir}')


if __name__ == '__main__':
    main()
