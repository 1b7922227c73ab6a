"""HiFi-GAN as inference.py's vocoder (with the denoiser), its TensorBoard images, and as evaluate.py scores it."""
from common.audio import load_wav
from common.data_args import stft_kwargs
from common.denoiser import Denoiser
from common.filelist import read_filelist
from common.stft import TacotronSTFT
from common.streaming import context_frames

from .fast_inference import PreparedGenerator
from .mel import HiFiGANMel


def check_hop_length(model, hop_length, source):
    """The generator's samples per frame must be the mel's hop (--hop-length): else the audio would not fit."""
    if model.hop_length != hop_length:
        raise ValueError(f'{source}: the HiFi-GAN makes {model.hop_length} samples per mel frame (its upsampling '
                         f'rates), but --hop-length is {hop_length}')


def float_generator(model):
    """The generator itself, or an int8 or traced one's float32 original (they are built from their first input)."""
    return model.float_generator if isinstance(model, PreparedGenerator) else model


def hifigan_denoiser(model):
    """The denoiser of this generator (common/denoiser.py): its bias is what it makes of an all-zero mel, in
    float32 (measured by the float32 original of an int8 or traced generator)."""
    model = float_generator(model)
    reference = model.conv_pre.bias
    return Denoiser(model.infer, model.n_mel_channels, reference.dtype, reference.device)


class HiFiGANVocoder:
    def __init__(self, model, args, device=None):
        check_hop_length(model, args.hop_length, f'--hifigan {args.hifigan}')
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        self.hop_length = model.hop_length
        self.strength = args.hifigan_denoising_strength
        self.denoiser = hifigan_denoiser(model) if self.strength > 0 else None
        # the generator's receptive field: 13 frames for V1, 4 more with the denoiser
        self.stream_context_frames = context_frames(float_generator(model).receptive_field_samples(),
                                                    self.hop_length, self.denoiser)
        form = (f', {model.name} (built from the first input: warm up with --include-warmup)'
                if isinstance(model, PreparedGenerator) else '')
        self.description = f'HiFi-GAN (upsampling {model.hop_length}x, denoising strength {self.strength}{form})'

    def __call__(self, mel, autocast):
        with autocast:
            audio = self.model.infer(mel)
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.strength)
        return audio.float()


def onnx_runtime_options(args):
    """The synthesis flags as options of an exported HiFi-GAN (hifigan/export.py) in common/onnx_backend.py."""
    return {'denoising_strength': args.hifigan_denoising_strength}


def validation_images(y_pred, y):
    """Mels of the first generated and real clip of the last validation batch, both by the reference's loss mel at
    the default audio settings (the images compare like with like whatever the run's settings)."""
    mel = HiFiGANMel(mel_fmax=None).to(y_pred.device)
    real, _ = y
    return {'mel_predicted': mel(y_pred[:1, 0])[0].cpu().numpy(), 'mel_target': mel(real[:1, 0])[0].cpu().numpy()}


def evaluation_pairs(model, args):
    """(mel of the vocoded audio, recorded mel) per clip of the --filelist (wavs/ID.wav|text lines): the generator
    takes its own input mel (fmax --mel-fmax) of the recording; both are compared as TacotronSTFT mels, as the other
    vocoders are."""
    check_hop_length(model, args.hop_length, f'--checkpoint {args.checkpoint}')
    stft = TacotronSTFT(**stft_kwargs(args))
    input_mel = HiFiGANMel(args.filter_length, args.hop_length, args.win_length, args.n_mel_channels,
                           args.sampling_rate, args.mel_fmin, args.mel_fmax)
    for entry in read_filelist(args.filelist, n_path_columns=1):
        audio, _ = load_wav(f'{args.dataset_path}/{entry.paths[0]}', args.sampling_rate)
        vocoded = model.infer(input_mel(audio[None]))
        yield stft.mel_spectrogram(vocoded.clamp(-1, 1))[0], stft.mel_spectrogram(audio[None])[0]
