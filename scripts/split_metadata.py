"""Split an LJSpeech-style metadata.csv into train/val/test filelists, deterministically.

    python scripts/split_metadata.py --metadata D/metadata.csv --output-dir filelists --prefix ljs

metadata.csv lines are `ID|text|normalized text` (the normalized column is used, the text when it is empty).
Writes OUTPUT_DIR/<prefix>_audio_text_{train,val,test}_filelist.txt with lines `wavs/ID.wav|normalized text`.
The split is common/splits.py's: the reference's 12,500 / 100 / 500 for LJSpeech's 13,100 clips, the same
proportions with floors for other sizes (274 / 15 / 11 for the 300-clip embedded corpus).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.splits import DEFAULT_SEED, write_split_filelists  # noqa: E402 (after the path set-up)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Deterministic train/val/test split of a metadata.csv.')
    parser.add_argument('--metadata', required=True, type=Path, help='metadata.csv (ID|text|normalized)')
    parser.add_argument('--output-dir', default=Path('filelists'), type=Path, help='Folder of the filelists')
    parser.add_argument('--prefix', default='ljs', help='Filelist name prefix: <prefix>_audio_text_<split>_filelist')
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED, help='Seed of the shuffle')
    args = parser.parse_args(argv)
    try:
        splits = write_split_filelists(args.metadata, args.output_dir, args.prefix, args.seed)
    except (ValueError, OSError) as error:
        sys.exit(f'error: {error}')
    print(', '.join(f'{split} {len(clip_ids)}' for split, clip_ids in splits.items()) + f' clips -> {args.output_dir}')


if __name__ == '__main__':
    main()
