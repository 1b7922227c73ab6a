"""NVIDIA/waveglow's mel2samp.py command line: the full mel of each listed WAV, saved for inference.py -f.

    python mel2samp.py -f wav_files.txt -o DIR -c config.json

-f lists one WAV path per line; each mel (n_mel, frames), computed by our preprocessing (common/stft.py, the mel
every model trains on) with the STFT of the config's data_config, goes to `DIR/<WAV file name>.pt` (so `X.wav`
gives `X.wav.pt`, and inference.py -f then writes `X.wav_synthesis.wav`). data_config names no mel count: 80 bands,
as there; its training_files need not exist here.
"""
from pathlib import Path

from common.audio import load_wav
from common.cli import ArgumentParser
from common.fileio import torch_save_atomic
from common.stft import TacotronSTFT, mel_from_audio

from .upstream_config import read_config

_STFT_KEYS = ('filter_length', 'hop_length', 'win_length', 'sampling_rate', 'mel_fmin', 'mel_fmax')


def build_parser():
    parser = ArgumentParser(prog='mel2samp.py', description=__doc__.splitlines()[0])
    parser.add_argument('-f', '--filelist', required=True, help='file listing one WAV path per line')
    parser.add_argument('-o', '--output_dir', required=True, help='folder for the mel files')
    parser.add_argument('-c', '--config', required=True, help='NVIDIA/waveglow JSON config (its data_config)')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    data = read_config(args.config)['data_config']
    stft = TacotronSTFT(**{key: data[key] for key in _STFT_KEYS})
    wav_paths = [line.strip() for line in Path(args.filelist).read_text().splitlines() if line.strip()]
    if not wav_paths:
        raise ValueError(f'-f {args.filelist}: lists no audio files')
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for wav_path in wav_paths:
        audio, _ = load_wav(wav_path, data['sampling_rate'])
        torch_save_atomic(mel_from_audio(stft, audio), output_dir / f'{Path(wav_path).name}.pt')
    print(f'{len(wav_paths)} mels written to {output_dir}')
    return 0
