"""WaveGlow as inference.py's vocoder (with the denoiser) and as evaluate.py scores it."""
import sys

from common.audio import load_wav
from common.data_args import stft_kwargs
from common.denoiser import Denoiser
from common.filelist import read_filelist
from common.stft import TacotronSTFT
from common.streaming import context_frames

from .model import UPSAMPLE_STRIDE


def waveglow_denoiser(model, **kwargs):
    """The denoiser of this WaveGlow (common/denoiser.py): its bias is what it makes of silence at sigma 0."""
    reference = model.upsample.weight
    return Denoiser(lambda mel: model.infer(mel, sigma=0.0), model.n_mel_channels, reference.dtype,
                    reference.device, **kwargs)


class WaveGlowVocoder:
    hop_length = UPSAMPLE_STRIDE

    def __init__(self, model, args, device=None):
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        self.sigma = args.sigma_infer
        self.strength = args.denoising_strength
        self.denoiser = waveglow_denoiser(model) if self.strength > 0 else None
        # the flows' receptive field: 99 frames for the reference's 12 flows of 8 layers (103 with the denoiser)
        self.stream_context_frames = context_frames(model.receptive_field_samples(), self.hop_length, self.denoiser)
        channels = model.WN[0].n_channels
        if args.wn_channels is not None and args.wn_channels != channels:
            print(f'warning: --wn-channels {args.wn_channels} ignored: the WaveGlow in {args.waveglow} has {channels}',
                  file=sys.stderr)
        self.description = (f'WaveGlow ({channels} channels, sigma {self.sigma}, denoising strength '
                            f'{self.strength})')

    def __call__(self, mel, autocast):
        with autocast:
            audio = self.model.infer(mel, sigma=self.sigma)
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.strength)
        return audio.float()


def onnx_runtime_options(args):
    """The synthesis flags as options of an exported WaveGlow (waveglow/export.py) in common/onnx_backend.py."""
    return {'sigma': args.sigma_infer, 'denoising_strength': args.denoising_strength}


def evaluation_pairs(model, args):
    """(mel of the vocoded audio, recorded mel) per clip of the --filelist (wavs/ID.wav|text lines), at sigma 0."""
    stft = TacotronSTFT(**stft_kwargs(args))
    for entry in read_filelist(args.filelist, n_path_columns=1):
        audio, _ = load_wav(f'{args.dataset_path}/{entry.paths[0]}', args.sampling_rate)
        mel = stft.mel_spectrogram(audio[None])
        vocoded = model.infer(mel, sigma=0.0).clamp(-1, 1)
        yield stft.mel_spectrogram(vocoded)[0], mel[0]
