"""Text to speech from checkpoints, with latency measurements.

    python inference.py -i phrases/phrase.txt -o output/audio --fastpitch FP.pt --waveglow WG.pt

A mel generator (--tacotron2 or --fastpitch) turns each input line into a mel spectrogram and a vocoder turns it
into audio: WaveGlow (+ denoiser) with --waveglow, Griffin-Lim otherwise. Each line becomes one 16-bit WAV file at
--sampling-rate, named audio_<k>.wav with k the 0-based line of the input (see common/text_batching.py). Lines are
split into sentences, the sentences of all lines are synthesized in length-sorted batches of --batch-size, and each
line's sentences are joined again with a short pause; every sentence ends with a 10 ms fade-out.

Every batch is one measured run (--repeats passes over the input); the summary is printed as a table and, with
the per-run numbers, written as JSON lines to --log-file (default <output>/nvlog_infer.json). The statistics are
described in common/latency.py.

--amp autocasts the models to float16 on a GPU and to bfloat16 on the CPU (the CPU has no fast float16 kernels);
Griffin-Lim and the denoiser always run in float32. --int8 MODEL... runs the named models with dynamic int8
quantization (common/precision.py), on the CPU only. Model sizes, the mel size included, come from the checkpoints
(the audio flags' --n-mel-channels is not used); --sampling-rate and the STFT flags serve Griffin-Lim and the WAVs.
"""
import argparse
import math
import sys
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

import models
from common import latency, precision
from common.audio import AudioError, save_wav
from common.checkpoint import CheckpointError
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.logger import Logger
from common.stft import LOG_CLIP, TacotronSTFT
from common.text import text_to_sequence
from common.text_batching import (MAX_PIECE_CHARS, PhraseFileError, length_sorted_batches, pad_sequences,
                                  read_phrases, split_into_pieces)
from waveglow.denoiser import Denoiser
from waveglow.model import UPSAMPLE_STRIDE

FADE_OUT_S = 0.01
SENTENCE_PAUSE_S = 0.2
SILENT_MEL = math.log(LOG_CLIP)  # log-mel value of silence, for the pauses in saved mels
MIN_VOCODER_FRAMES = 4  # the STFTs of Griffin-Lim and the denoiser need more than filter_length / 2 samples
DEFAULT_LOG_NAME = 'nvlog_infer.json'
INT8_MODELS = ('tacotron2', 'fastpitch', 'waveglow')

# Submodules that --torchscript tries to script (ModuleLists element by element); the rest stays eager, because
# the autoregressive decoder loop, the length regulator and the flows are Python control flow.
SCRIPT_CANDIDATES = {
    'Tacotron2': ('encoder', 'postnet'),
    'FastPitch': ('encoder', 'decoder', 'duration_predictor', 'pitch_predictor'),
    'WaveGlow': ('WN',),
}


class InferenceError(ValueError):
    """A flag or an input that inference.py cannot use; the message names it."""


def build_parser():
    parser = argparse.ArgumentParser(description='Synthesize speech from text with Tacotron 2 or FastPitch and '
                                                 'WaveGlow (or Griffin-Lim), and measure latency')
    io = parser.add_argument_group('input and output')
    io.add_argument('-i', '--input', required=True,
                    help='Text file, one phrase per line, or a .tsv file with a "text" column')
    io.add_argument('-o', '--output', help='Folder for the WAV files (none written without it)')
    io.add_argument('--log-file', help=f'JSON-lines log (default: <output>/{DEFAULT_LOG_NAME}, none without -o)')
    io.add_argument('--save-mels', action='store_true', help='Also save each line\'s mel as <name>_mel.pt')

    checkpoints = parser.add_argument_group('models')
    generator = checkpoints.add_mutually_exclusive_group(required=True)
    generator.add_argument('--tacotron2', help='Tacotron 2 checkpoint (mel generator)')
    generator.add_argument('--fastpitch', help='FastPitch checkpoint (mel generator)')
    checkpoints.add_argument('--waveglow', help='WaveGlow checkpoint (vocoder); Griffin-Lim without it')
    checkpoints.add_argument('--allow-pickle', action='store_true',
                             help='Read checkpoints that hold pickled objects (NVIDIA/waveglow); trusted files only')
    checkpoints.add_argument('--wn-channels', type=int,
                             help='Accepted for the reference scripts; the size is read from the checkpoint')

    synthesis = parser.add_argument_group('synthesis')
    synthesis.add_argument('--sigma-infer', type=float, default=0.9, help='Standard deviation of WaveGlow\'s noise')
    synthesis.add_argument('--denoising-strength', type=float, default=0.01,
                           help='Strength of the WaveGlow denoiser (0 switches it off)')
    synthesis.add_argument('--max-decoder-steps', type=int,
                           help='Tacotron 2 decoder step limit (default: the checkpoint\'s)')
    synthesis.add_argument('--max-piece-chars', type=int, default=MAX_PIECE_CHARS,
                           help='Sentences longer than this are split at clause breaks')
    synthesis.add_argument('--seed', type=int, default=1234, help='Seed of the noise (WaveGlow, Tacotron 2 prenet)')

    fastpitch = parser.add_argument_group('FastPitch controls')
    fastpitch.add_argument('--pace', type=float, default=1.0, help='Speaking rate (above 1: faster)')
    fastpitch.add_argument('--pitch-transform-flatten', action='store_true', help='Flatten the pitch')
    fastpitch.add_argument('--pitch-transform-invert', action='store_true', help='Invert the pitch around its mean')
    fastpitch.add_argument('--pitch-transform-amplify', type=float, default=1.0, metavar='F',
                           help='Scale the pitch\'s deviation from its mean')
    fastpitch.add_argument('--pitch-transform-shift', type=float, default=0.0, metavar='HZ',
                           help='Raise (or lower) the pitch by HZ')

    runtime = parser.add_argument_group('runtime')
    runtime.add_argument('-bs', '--batch-size', type=int, default=8, help='Sentences per batch')
    device = runtime.add_mutually_exclusive_group()
    device.add_argument('--cpu', action='store_true', help='Run on the CPU (the default where no GPU is found)')
    device.add_argument('--cuda', action='store_true', help='Run on the GPU (an error where none is found)')
    runtime.add_argument('--amp', '--fp16', '--amp-run', dest='amp', action='store_true',
                         help='Mixed precision: float16 on a GPU, bfloat16 on the CPU')
    runtime.add_argument('--int8', nargs='+', default=[], choices=INT8_MODELS, metavar='MODEL',
                         help='Dynamic int8 quantization of these models (any of tacotron2, fastpitch, waveglow): '
                              'faster on the CPU at a measured quality cost (README, Performance); CPU only')
    runtime.add_argument('--torchscript', action='store_true', help='Script the submodules that TorchScript accepts')
    runtime.add_argument('--cudnn-benchmark', action='store_true', help='Let cuDNN pick its fastest algorithms')

    benchmark = parser.add_argument_group('benchmark')
    benchmark.add_argument('--repeats', type=int, default=1, help='Measured passes over the input')
    benchmark.add_argument('--warmup-steps', type=int, default=0,
                           help='Measured runs (batches) left out of the summary at the start')
    benchmark.add_argument('--include-warmup', action='store_true',
                           help='Run one unmeasured pass over the input first')
    add_audio_args(parser)
    add_text_args(parser)
    return parser


def check_args(args):
    positive = {'-bs/--batch-size': args.batch_size, '--repeats': args.repeats, '--pace': args.pace,
                '--max-piece-chars': args.max_piece_chars, '--sampling-rate': args.sampling_rate,
                '--hop-length': args.hop_length}
    if args.max_decoder_steps is not None:
        positive['--max-decoder-steps'] = args.max_decoder_steps
    for flag, value in positive.items():
        if not value > 0:
            raise InferenceError(f'{flag} must be positive, got {value}')
    for flag, value in {'--warmup-steps': args.warmup_steps, '--sigma-infer': args.sigma_infer,
                        '--denoising-strength': args.denoising_strength}.items():
        if value < 0:
            raise InferenceError(f'{flag} must not be negative, got {value}')
    fastpitch_only = [flag for flag, used in (
        ('--pace', args.pace != 1.0), ('--pitch-transform-flatten', args.pitch_transform_flatten),
        ('--pitch-transform-invert', args.pitch_transform_invert),
        ('--pitch-transform-amplify', args.pitch_transform_amplify != 1.0),
        ('--pitch-transform-shift', args.pitch_transform_shift != 0.0)) if used]
    if fastpitch_only and not args.fastpitch:
        raise InferenceError(f'{", ".join(fastpitch_only)}: only with --fastpitch')
    if args.max_decoder_steps is not None and not args.tacotron2:
        raise InferenceError('--max-decoder-steps needs --tacotron2')
    if args.cuda and not torch.cuda.is_available():
        raise InferenceError('--cuda: no CUDA GPU is available')
    for name in args.int8:
        if not getattr(args, name):
            raise InferenceError(f'--int8 {name}: no --{name} checkpoint is given')
    if args.int8 and args.cuda:
        raise InferenceError('--int8 runs on the CPU (fbgemm kernels): drop --cuda')


def pick_device(args):
    if args.cpu:
        return torch.device('cpu')
    if args.int8:
        print('--int8: running on the CPU')
        return torch.device('cpu')
    if torch.cuda.is_available():
        return torch.device('cuda')
    print('no GPU found: running on the CPU')
    return torch.device('cpu')


def prepare_output_dir(path):
    """Create the folder and prove it writable before any model is loaded."""
    path = Path(path)
    probe = path / '.inference_write_test'
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise InferenceError(f'-o {path}: cannot write there ({error.strerror or error})') from None
    return path


def load_model(name, path, flag, device, allow_pickle, int8=False):
    """The model in a checkpoint, as an int8-quantized copy where --int8 names it."""
    try:
        model = models.load_model_from_checkpoint(name, path, device, allow_pickle=allow_pickle)
    except CheckpointError as error:
        raise CheckpointError(f'{flag}: {error}') from None
    return precision.quantize_int8(model) if int8 else model


def build_pitch_transform(args):
    """FastPitch.infer's pitch_transform from the flags, applied in the order flatten, invert, amplify, shift.

    Pitch is normalised there (pitch_hz = pitch * std + mean), so scaling it scales the deviation from the mean."""
    steps = []
    if args.pitch_transform_flatten:
        steps.append(lambda pitch, std: pitch * 0.0)
    if args.pitch_transform_invert:
        steps.append(lambda pitch, std: -pitch)
    if args.pitch_transform_amplify != 1.0:
        steps.append(lambda pitch, std: pitch * args.pitch_transform_amplify)
    if args.pitch_transform_shift != 0.0:
        steps.append(lambda pitch, std: pitch + args.pitch_transform_shift / std)
    if not steps:
        return None

    def transform(pitch, lengths, mean, std):
        for step in steps:
            pitch = step(pitch, std)
        return pitch
    return transform


def tacotron2_generator(model, args):
    if args.max_decoder_steps is not None:
        model.decoder.max_decoder_steps = args.max_decoder_steps

    def generate(text, lengths):
        with warnings.catch_warnings():  # reported per input line instead, see report_overruns
            warnings.filterwarnings('ignore', message='Tacotron2: .*max_decoder_steps')
            mel, mel_lengths, _ = model.infer(text, lengths)
        return mel, mel_lengths, model.reached_max_decoder_steps
    return generate


def fastpitch_generator(model, args):
    pitch_transform = build_pitch_transform(args)

    def generate(text, lengths):
        mel, mel_lengths, _, _ = model.infer(text, lengths, pace=args.pace, pitch_transform=pitch_transform)
        return mel, mel_lengths, None
    return generate


GENERATORS = {'Tacotron2': tacotron2_generator, 'FastPitch': fastpitch_generator}


class WaveGlowVocoder:
    def __init__(self, model, sigma, denoising_strength):
        self.model = model
        self.sigma = sigma
        self.strength = denoising_strength
        self.hop_length = UPSAMPLE_STRIDE
        self.denoiser = Denoiser(model) if denoising_strength > 0 else None
        self.description = (f'WaveGlow ({model.WN[0].n_channels} channels, sigma {sigma}, denoising strength '
                            f'{denoising_strength})')

    def __call__(self, mel, autocast):
        with autocast:
            audio = self.model.infer(mel, sigma=self.sigma)
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.strength)
        return audio.float()


class GriffinLimVocoder:
    """Phase reconstruction from the mel alone: intelligible but phasey; a stand-in where no WaveGlow is given."""

    def __init__(self, args, n_mel_channels, device):
        self.stft = TacotronSTFT(**{**stft_kwargs(args), 'n_mel_channels': n_mel_channels}).to(device)
        self.hop_length = args.hop_length
        self.description = 'Griffin-Lim (no --waveglow given; expect metallic, phasey audio)'

    def __call__(self, mel, autocast):
        audio = self.stft.griffin_lim_from_mel(mel.float())
        return F.pad(audio, (0, mel.size(2) * self.hop_length - audio.size(1)))  # GL stops one hop short


def script_parts(model, names):
    """Script each named submodule (each element of a ModuleList) in place -> (scripted names, {name: reason})."""
    scripted, failed = [], {}
    for name in names:
        part = model.get_submodule(name)
        targets = ([(f'{name}.{i}', module) for i, module in enumerate(part)]
                   if isinstance(part, torch.nn.ModuleList) else [(name, part)])
        for target, module in targets:
            try:
                with warnings.catch_warnings():  # torch 2.x deprecates TorchScript; the reference recipes use it
                    warnings.simplefilter('ignore', DeprecationWarning)
                    compiled = torch.jit.script(module)
            except Exception as error:  # TorchScript raises many types; the part just stays eager
                failed[target] = next((line for line in str(error).splitlines() if line.strip()), type(error).__name__)
                continue
            model.set_submodule(target, compiled)
            scripted.append(target)
    return scripted, failed


def report_scripting(model_name, scripted, failed):
    if scripted:
        print(f'--torchscript: {model_name}: scripted {_grouped(scripted)}')
    for target, reason in failed.items():
        print(f'--torchscript: {model_name}: {target} stays eager (TorchScript: {reason.strip()})')
    print(f'--torchscript: {model_name}: the top-level inference loop stays eager (Python control flow)')


def _grouped(names):
    """'WN.0', 'WN.1', 'encoder' -> 'WN (2 modules), encoder'."""
    counts = {}
    for name in names:
        counts[name.split('.')[0]] = counts.get(name.split('.')[0], 0) + 1
    return ', '.join(top if count == 1 else f'{top} ({count} modules)' for top, count in counts.items())


class Synthesizer:
    """Text ids of one batch -> per-item (mel, audio) trimmed to each item's own length, with the run's timings."""

    def __init__(self, generate, vocoder, device, amp):
        self.generate = generate
        self.vocoder = vocoder
        self.device = device
        self.amp_dtype = torch.float16 if device.type == 'cuda' else torch.bfloat16
        self.amp = amp

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp)

    def __call__(self, sequences):
        text, lengths = pad_sequences(sequences)
        timings = {}
        with latency.timed(self.device, timings, 'latency'):
            text, lengths = text.to(self.device), lengths.to(self.device)
            with latency.timed(self.device, timings, 'generator_latency'), self.autocast():
                mel, mel_lengths, overrun = self.generate(text, lengths)
            with latency.timed(self.device, timings, 'vocoder_latency'):
                audio = self._vocode(mel)
            mel_lengths = mel_lengths.cpu().tolist()
            hop = self.vocoder.hop_length
            items = [(mel[i, :, :n].float().cpu(), audio[i, :n * hop].cpu()) for i, n in enumerate(mel_lengths)]
        timings.update(mel_frames=sum(mel_lengths), audio_samples=sum(n * hop for n in mel_lengths),
                       utterances=len(sequences))
        overrun = [False] * len(sequences) if overrun is None else overrun.cpu().tolist()
        return items, overrun, timings

    def _vocode(self, mel):
        if mel.size(2) == 0:
            return mel.new_zeros(mel.size(0), 0, dtype=torch.float32)
        missing = MIN_VOCODER_FRAMES - mel.size(2)
        if missing > 0:  # silence after the end; trimmed away again with the item's length
            mel = F.pad(mel, (0, missing), value=SILENT_MEL)
        return self.vocoder(mel, self.autocast())


def fade_out(audio, n_samples):
    """A linear fade over the last n_samples (all of a shorter clip)."""
    n = min(n_samples, audio.numel())
    if n == 0:
        return audio
    audio = audio.clone()
    audio[-n:] *= torch.linspace(1.0, 0.0, n)
    return audio


def join_pieces(pieces, pause_frames, hop_length, fade_samples):
    """Sentences (mel, audio) of one line -> one (mel, audio), each sentence faded out and followed by a pause of
    pause_frames (silent mel frames, zero audio) except the last; audio length stays mel frames * hop_length."""
    mels, audios = [], []
    for index, (mel, audio) in enumerate(pieces):
        if index:
            mels.append(torch.full((mel.size(0), pause_frames), SILENT_MEL))
            audios.append(torch.zeros(pause_frames * hop_length))
        mels.append(mel)
        audios.append(fade_out(audio, fade_samples))
    return torch.cat(mels, dim=1), torch.cat(audios)


def plan_pieces(phrases, args):
    """(phrase index, symbol ids) of every sentence piece, in input order; unknown characters are reported with
    the line they are on."""
    pieces = []
    for index, phrase in enumerate(phrases):
        for text in split_into_pieces(phrase.text, args.max_piece_chars):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                ids = text_to_sequence(text, args.text_cleaners)
            for warning in caught:
                print(f'warning: {args.input}:{phrase.line_number}: {warning.message}', file=sys.stderr)
            if not ids:
                raise InferenceError(f'{args.input}:{phrase.line_number}: nothing left to speak after cleaning '
                                     f'{text!r}')
            pieces.append((index, ids))
    return pieces


def report_overruns(overrun_lines, args, logger, max_steps):
    for line_number in overrun_lines:
        print(f'warning: {args.input}:{line_number}: Tacotron 2 reached max_decoder_steps ({max_steps}) before its '
              'stop gate fired; the audio of this line may be cut short (raise --max-decoder-steps)', file=sys.stderr)
        logger.log('warning', {'event': 'max_decoder_steps_reached', 'input': args.input, 'line': line_number,
                               'max_decoder_steps': max_steps})


def load_pipeline(args, device):
    """(generator name, mel generator, vocoder) from the checkpoint flags, scripted where --torchscript asks."""
    generator_name = 'Tacotron2' if args.tacotron2 else 'FastPitch'
    generator_flag, generator_path = f'--{generator_name.lower()}', args.tacotron2 or args.fastpitch
    generator = load_model(generator_name, generator_path, generator_flag, device, args.allow_pickle,
                           int8=generator_name.lower() in args.int8)
    n_mel_channels = generator_output_channels(generator)
    if args.waveglow:
        waveglow = load_model('WaveGlow', args.waveglow, '--waveglow', device, args.allow_pickle,
                              int8='waveglow' in args.int8)
        if waveglow.n_mel_channels != n_mel_channels:
            raise InferenceError(f'{generator_flag} {generator_path} makes {n_mel_channels}-band mels but --waveglow '
                                 f'{args.waveglow} expects {waveglow.n_mel_channels}: they do not belong together')
        channels = waveglow.WN[0].n_channels
        if args.wn_channels is not None and args.wn_channels != channels:
            print(f'warning: --wn-channels {args.wn_channels} ignored: the WaveGlow in {args.waveglow} has {channels}',
                  file=sys.stderr)
        vocoder = WaveGlowVocoder(waveglow, args.sigma_infer, args.denoising_strength)
    else:
        vocoder = GriffinLimVocoder(args, n_mel_channels, device)
    if args.torchscript:
        for name, model in ((generator_name, generator), ('WaveGlow', getattr(vocoder, 'model', None))):
            if model is not None:
                report_scripting(name, *script_parts(model, SCRIPT_CANDIDATES[name]))
    print(f'mel generator: {generator_name} from {generator_path}')
    print(f'vocoder: {vocoder.description}')
    return generator_name, generator, vocoder


def measure(synthesize, pieces, batches, args, logger):
    """Synthesize every batch --repeats times (after one unmeasured pass with --include-warmup). Returns the first
    pass's (mel, audio) and max_decoder_steps flag per piece, and the timings of every run."""
    outputs, overrun, runs = [None] * len(pieces), [False] * len(pieces), []
    with torch.inference_mode():
        if args.include_warmup:
            for batch in batches:
                synthesize([pieces[i][1] for i in batch])
        for repeat in range(args.repeats):
            for batch in batches:
                items, batch_overrun, timings = synthesize([pieces[i][1] for i in batch])
                timings['batch_size'] = len(batch)
                logger.log(f'run {len(runs)}', timings)
                runs.append(timings)
                if repeat == 0:
                    for i, item, stopped in zip(batch, items, batch_overrun):
                        outputs[i], overrun[i] = item, stopped
    return outputs, overrun, runs


def run(args):
    check_args(args)
    phrases = read_phrases(args.input)
    output_dir = prepare_output_dir(args.output) if args.output else None
    device = pick_device(args)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    generator_name, generator, vocoder = load_pipeline(args, device)
    print(f'device: {device}, precision: {precision_name(args, device)}')

    pieces = plan_pieces(phrases, args)
    batches = length_sorted_batches([len(ids) for _, ids in pieces], args.batch_size)
    if args.warmup_steps >= len(batches) * args.repeats:
        raise InferenceError(f'--warmup-steps {args.warmup_steps} leaves no measured run ({len(batches)} batches x '
                             f'{args.repeats} repeats)')
    logger = Logger(log_file=args.log_file or (output_dir / DEFAULT_LOG_NAME if output_dir else None), stdout=None)
    logger.log('parameters', vars(args))

    synthesize = Synthesizer(GENERATORS[generator_name](generator, args), vocoder, device, args.amp)
    torch.manual_seed(args.seed)
    outputs, overrun, runs = measure(synthesize, pieces, batches, args, logger)
    overrun_lines = sorted({phrases[pieces[i][0]].line_number for i, stopped in enumerate(overrun) if stopped})
    if overrun_lines:
        report_overruns(overrun_lines, args, logger, generator.decoder.max_decoder_steps)
    for (phrase_index, _), (mel, _) in zip(pieces, outputs):
        if mel.size(1) == 0:
            print(f'warning: {args.input}:{phrases[phrase_index].line_number}: a sentence produced no mel frames',
                  file=sys.stderr)
    if output_dir is not None:
        write_outputs(output_dir, phrases, pieces, outputs, vocoder.hop_length, args)

    summary = latency.summarize(runs[args.warmup_steps:], args.sampling_rate)
    summary.update(batch_size=args.batch_size, precision=precision_name(args, device), device=str(device))
    logger.log((), summary)
    logger.close()
    print(latency.format_table(summary))
    return 0


def generator_output_channels(generator):
    """Mel bands of a mel generator (Tacotron 2 stores them, FastPitch's projection has them as outputs)."""
    return getattr(generator, 'n_mel_channels', None) or generator.proj.out_features


def precision_name(args, device):
    """'fp32', 'bf16' or 'fp16' (--amp), plus the models quantized to int8: 'fp32, int8 waveglow'."""
    name = ('fp16' if device.type == 'cuda' else 'bf16') if args.amp else 'fp32'
    return f'{name}, int8 {"+".join(args.int8)}' if args.int8 else name


def write_outputs(output_dir, phrases, pieces, outputs, hop_length, args):
    pause_frames = round(SENTENCE_PAUSE_S * args.sampling_rate / hop_length)
    fade_samples = round(FADE_OUT_S * args.sampling_rate)
    parts = [[] for _ in phrases]
    for (phrase_index, _), output in zip(pieces, outputs):
        parts[phrase_index].append(output)
    for phrase, phrase_parts in zip(phrases, parts):
        mel, audio = join_pieces(phrase_parts, pause_frames, hop_length, fade_samples)
        save_wav(output_dir / phrase.output_name, audio, args.sampling_rate)
        if args.save_mels:
            torch.save(mel, output_dir / f'{Path(phrase.output_name).stem}_mel.pt')
    print(f'wrote {len(phrases)} WAV files to {output_dir}')


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (InferenceError, PhraseFileError, CheckpointError, AudioError, OSError) as error:
        print(f'inference.py: error: {" ".join(str(error).split())}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
