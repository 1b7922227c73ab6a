"""python mel2samp.py -f wav_files.txt -o DIR -c config.json: NVIDIA/waveglow's mel extraction command line
(waveglow/upstream_mels.py)."""
import sys

from common.cli import command
from waveglow.upstream_mels import main as mels_main

main = command('mel2samp.py')(mels_main)

if __name__ == '__main__':
    sys.exit(main())
