"""Draw saved mel spectrograms (`inference.py --save-mels` writes <name>_mel.pt) into one PNG.

    python scripts/plot_mels.py OUT.png MEL.pt [MEL.pt ...]
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common.plotting import save_heatmaps  # noqa: E402 (after the path set-up)


def main(argv):
    if len(argv) < 2:
        sys.exit('usage: python scripts/plot_mels.py OUT.png MEL.pt [MEL.pt ...]')
    output, mel_paths = Path(argv[0]), [Path(p) for p in argv[1:]]
    named = []
    for path in mel_paths:
        try:
            mel = torch.load(path, map_location='cpu', weights_only=True)
        except (OSError, RuntimeError) as error:
            sys.exit(f'plot_mels.py: {path}: not a readable mel file ({error})')
        named.append((path.stem, mel.squeeze(0) if mel.dim() == 3 else mel))
    output.parent.mkdir(parents=True, exist_ok=True)
    save_heatmaps(output, named)
    print(f'wrote {output}')


if __name__ == '__main__':
    main(sys.argv[1:])
