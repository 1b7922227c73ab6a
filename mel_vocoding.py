"""inference.py's second mode, NVIDIA/waveglow's inference.py command line: saved mels to WAVs.

    python inference.py -f mel_files.txt -w waveglow_checkpoint -o DIR [--is_fp16] [-s SIGMA] [-d STRENGTH]

Each line of -f is the path of a mel saved with torch.save ((n_mel, frames) or (1, n_mel, frames), as mel2samp.py
writes them); each becomes `DIR/<its name without the last extension>_synthesis.wav`, 16-bit at --sampling_rate.
The vocoder is the one the checkpoint holds (any format we load; NVIDIA's pickled files also need
--allow-pickle), weight norm removed; -s is its noise's standard deviation, -d > 0 adds the denoiser at that
strength; --is_fp16 autocasts to float16 on a GPU, bfloat16 on the CPU. Unlike there, DIR is created if missing.
"""
import time
from pathlib import Path

import torch

import models
from common.audio import save_wav
from common.checkpoint import CheckpointError, load_checkpoint
from common.cli import ArgumentParser, non_negative_float, positive_int
from common.fileio import load_tensor
from common.model_loading import checkpoint_model_name, ready_for_inference
from common.model_spec import VOCODER
from common.precision import inference_precision

FLAGS = ('-f', '--filelist_path', '-w', '--waveglow_path')


def recognises(argv):
    """The mode is NVIDIA/waveglow's when its mel list and checkpoint flags are given."""
    given = {token.split('=')[0] for token in argv}
    return bool(given & {'-f', '--filelist_path'}) and bool(given & {'-w', '--waveglow_path'})


def build_parser():
    parser = ArgumentParser(prog='inference.py (NVIDIA/waveglow command line)', description=__doc__.splitlines()[0])
    parser.add_argument('-f', '--filelist_path', required=True, help='file listing one saved mel (.pt) per line')
    parser.add_argument('-w', '--waveglow_path', required=True, help='vocoder checkpoint')
    parser.add_argument('-o', '--output_dir', required=True, help='folder for the WAV files')
    parser.add_argument('-s', '--sigma', default=1.0, type=non_negative_float, help='standard deviation of the noise')
    parser.add_argument('--sampling_rate', default=22050, type=positive_int, help='sampling rate of the WAV header')
    parser.add_argument('--is_fp16', action='store_true', help='float16 on a GPU, bfloat16 on the CPU')
    parser.add_argument('-d', '--denoiser_strength', default=0.0, type=non_negative_float,
                        help='denoiser strength (0: none)')
    parser.add_argument('--allow-pickle', action='store_true', help='unpickle a trusted NVIDIA/waveglow file')
    parser.add_argument('--cpu', action='store_true', help='run on the CPU even where a GPU is found')
    return parser


def load_vocoder(args, device):
    """The synthesizer of the vocoder that -w holds, with -s and -d as its synthesis flags."""
    checkpoint = load_checkpoint(args.waveglow_path, allow_pickle=args.allow_pickle)
    vocoders = models.specs_of_role(VOCODER)
    name = checkpoint_model_name(checkpoint, args.waveglow_path, vocoders)
    if name not in {spec.name for spec in vocoders}:
        raise CheckpointError(f'-w {args.waveglow_path}: holds no vocoder')
    spec = models.model_spec(name)
    model, _ = models.model_from_checkpoint(name, checkpoint, args.waveglow_path)
    flags = ArgumentParser(prog=f'inference.py -w ({name})')
    spec.add_inference_args(flags)
    synthesis = flags.parse_args(['--sigma-infer', str(args.sigma), '--denoising-strength',
                                  str(args.denoiser_strength)])
    synthesis.waveglow = args.waveglow_path
    return spec.make_synthesizer(ready_for_inference(spec, model, device), synthesis, device)


def read_mel_list(path):
    lines = Path(path).read_text().splitlines()
    paths = [line.strip() for line in lines if line.strip()]
    if not paths:
        raise ValueError(f'-f {path}: lists no mel files')
    return paths


def main(argv=None):
    args = build_parser().parse_args(argv)
    device = torch.device('cuda' if torch.cuda.is_available() and not args.cpu else 'cpu')
    mel_paths = read_mel_list(args.filelist_path)
    vocoder = load_vocoder(args, device)
    precision = inference_precision(device, args.is_fp16)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for mel_path in mel_paths:
        mel = load_tensor(mel_path, 'mel')
        mel = (mel if mel.dim() == 3 else mel.unsqueeze(0)).to(device)
        if mel.dim() != 3 or mel.shape[1] != vocoder.n_mel_channels:
            raise ValueError(f'{mel_path}: expected a mel of {vocoder.n_mel_channels} bands, found shape '
                             f'{tuple(mel.shape)}')
        start = time.perf_counter()
        with torch.no_grad():
            audio = vocoder(mel, precision.autocast())[0]
        elapsed = time.perf_counter() - start
        wav_path = output_dir / f'{Path(mel_path).stem}_synthesis.wav'
        save_wav(wav_path, audio.cpu(), args.sampling_rate)
        print(f'{wav_path}: {audio.numel() / args.sampling_rate:.2f} s of audio in {elapsed:.2f} s')
    return 0

