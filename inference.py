"""Text to speech from checkpoints, with latency measurements.

    python inference.py -i phrases/phrase.txt -o output/audio --GENERATOR G.pt [--VOCODER V.pt]
    python inference.py -f mel_files.txt -w WAVEGLOW.pt -o DIR [-s SIGMA]     (saved mels: mel_vocoding.py)

A mel generator turns each input line into a mel spectrogram and a vocoder turns it into audio; without a vocoder
checkpoint, Griffin-Lim does. The checkpoint flags and each model's own synthesis flags come from the model specs
(models.py, common/model_spec.py): --tacotron2 or --fastpitch, then --waveglow, today. Each line becomes one 16-bit
WAV file at --sampling-rate, named audio_<k>.wav with k the 0-based line of the input (see
common/text_batching.py). Lines are split into sentences, the sentences of all lines are synthesized in
length-sorted batches of --batch-size, and each line's sentences are joined again with a short pause; every
sentence ends with a 10 ms fade-out. Memory stays bounded however long the input: the batches are planned a few at a
time, each line is written as its sentences come, long mels are vocoded in chunks, and an input of more than one
window has its large freed blocks go back to the system (common/native_memory.py).

Every batch is one measured run (--repeats passes over the input); the summary is printed as a table and, with
the per-run numbers, written as JSON lines to --log-file (default <output>/nvlog_infer.json). The statistics are
described in common/latency.py.

--stream starts the audio before the whole text is vocoded: the lines are synthesized in input order, one sentence
at a time (batch size 1), each sentence's mel is vocoded in chunks of --stream-chunk-frames frames with the
vocoder's context on either side (common/streaming.py), and every chunk is written as soon as it is ready: into
its line's WAV (a temporary file, renamed once the line is complete; the same pauses and fades), or with -o - as
raw 16-bit little-endian mono PCM on stdout, the lines joined by the sentence pause (messages go to stderr):

    python inference.py -i phrases/phrase.txt -o - --fastpitch FP.pt --hifigan HG.pt --stream | aplay -f S16_LE -r 22050

The streamed audio is -bs 1's to float rounding (WaveGlow at --sigma-infer 0; Griffin-Lim differs at every chunk).
Each line is one measured run, and the summary adds the time to first audio (from the start of the line). Time to
first audio against whole-utterance latency, for a 500-character paragraph (its sentences fit one batch of 8):

    python inference.py -i phrases/paragraph_500.txt --fastpitch FP.pt --hifigan HG.pt --include-warmup \
        --repeats 5 --log-file whole.json
    python inference.py -i phrases/paragraph_500.txt --fastpitch FP.pt --hifigan HG.pt --include-warmup \
        --repeats 5 --log-file stream.json --stream
    python -m common.latency whole.json stream.json  # latency_mean of whole, first_audio_latency_mean of stream

--backend onnxruntime runs files exported by export.py --format onnx (--fastpitch fastpitch.onnx --hifigan
hifigan.onnx; a Tacotron 2 is its folder) with ONNX Runtime on the CPU: the same WAVs as the checkpoints give, to
float rounding (WaveGlow at --sigma-infer 0; with noise, both draw their own), through the same batching, denoiser
and measurements (common/onnx_backend.py). int8 there is an export of its own (export.py --int8).

--amp autocasts the models to float16 on a GPU and to bfloat16 on the CPU (the CPU has no fast float16 kernels);
Griffin-Lim and the denoiser always run in float32. --int8 MODEL... runs the named models with int8 quantization
(common/precision.py; HiFi-GAN's is static, calibrated on its first input: hifigan/fast_inference.py), on the CPU
only. Model sizes, the mel size included, come from the checkpoints (the audio flags' --n-mel-channels is not
used); --sampling-rate and the STFT flags serve Griffin-Lim and the WAVs.
"""
import argparse
import contextlib
import math
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

import mel_vocoding
import models
from common import latency
from common.audio import pcm16, wav_writer
from common.checkpoint import CheckpointError
from common.cli import ArgumentParser, command
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import torch_save_atomic
from common.logger import Logger
from common.model_spec import GENERATOR, VOCODER
from common.native_memory import release_large_blocks
from common.precision import inference_precision, quantize_int8
from common.sampling_rates import check_trained_sampling_rates
from common.stft import TacotronSTFT
from common.streaming import vocode_in_chunks
from common.text_batching import (MAX_PIECE_CHARS, SILENT_MEL, WINDOW_BATCHES, LineAssembler, fade_out_part,
                                  pad_sequences, pieces_by_phrase, plan_pieces, read_phrases, windowed_batches)

FADE_OUT_S = 0.01
SENTENCE_PAUSE_S = 0.2
MIN_VOCODER_FRAMES = 4  # the STFTs of Griffin-Lim and the denoiser need more than filter_length / 2 samples
DEFAULT_LOG_NAME = 'nvlog_infer.json'
DEFAULT_BATCH_SIZE = 8
STREAM_CHUNK_FRAMES = 64  # 0.74 s at 22,050 Hz: HiFi-GAN V1 vocodes 64 + 2 x 13 frames per chunk (1.4x the work)
# A vocoder's activations grow with batch items x frames x its upsampling (HiFi-GAN: 256 samples per frame): longer
# mels are vocoded in chunks of this many frames per batch (items x frames), at least MIN_VOCODE_CHUNK_FRAMES
# frames each, with the vocoder's context (~11 frames) on either side
VOCODE_FRAMES_PER_CALL = 1024
MIN_VOCODE_CHUNK_FRAMES = 64
STDOUT = '-'  # -o - with --stream: raw PCM on stdout
ONNX_RUNTIME = 'onnxruntime'
BACKENDS = ('pytorch', ONNX_RUNTIME)


class InferenceError(ValueError):
    """A flag or an input that inference.py cannot use; the message names it."""


def build_parser():
    parser = ArgumentParser(prog='inference.py', description='Synthesize speech from text with a mel generator and a '
                                                             'vocoder (or Griffin-Lim), and measure latency')
    io = parser.add_argument_group('input and output')
    io.add_argument('-i', '--input', required=True,
                    help='Text file, one phrase per line, or a .tsv file with a "text" column')
    io.add_argument('-o', '--output', help='Folder for the WAV files (none written without it); with --stream, '
                                           '"-" writes raw 16-bit little-endian mono PCM to stdout instead')
    io.add_argument('--log-file', help=f'JSON-lines log (default: <output>/{DEFAULT_LOG_NAME}, none without -o or '
                                       'with -o -)')
    io.add_argument('--save-mels', action='store_true', help='Also save each line\'s mel as <name>_mel.pt')
    add_checkpoint_args(parser.add_argument_group('models'))
    for spec in models.MODELS.values():
        spec.add_inference_args(parser)

    synthesis = parser.add_argument_group('synthesis')
    synthesis.add_argument('--max-piece-chars', type=int, default=MAX_PIECE_CHARS,
                           help='Sentences longer than this are split at clause breaks')
    synthesis.add_argument('--seed', type=int, default=1234, help='Seed of the models\' noise and dropout')

    runtime = parser.add_argument_group('runtime')
    runtime.add_argument('-bs', '--batch-size', type=int,
                         help=f'Sentences per batch (default {DEFAULT_BATCH_SIZE}; 1 with --stream, its only value)')
    runtime.add_argument('--stream', action='store_true',
                         help='Write the audio as it is made: one sentence at a time, each sentence\'s mel vocoded in '
                              'chunks with the vocoder\'s context on either side, each chunk written when ready (to '
                              'stdout with -o -); the summary adds the time to first audio')
    runtime.add_argument('--stream-chunk-frames', type=int, metavar='FRAMES',
                         help=f'--stream: mel frames per chunk (default {STREAM_CHUNK_FRAMES}); smaller chunks start '
                              'sooner, larger ones vocode fewer context frames')
    runtime.add_argument('--backend', choices=BACKENDS, default='pytorch',
                         help='onnxruntime: the model flags name files exported by export.py --format onnx (a '
                              'Tacotron 2 folder), run by ONNX Runtime on the CPU')
    device = runtime.add_mutually_exclusive_group()
    device.add_argument('--cpu', action='store_true', help='Run on the CPU (the default where no GPU is found)')
    device.add_argument('--cuda', action='store_true', help='Run on the GPU (an error where none is found)')
    runtime.add_argument('--amp', '--fp16', '--amp-run', dest='amp', action='store_true',
                         help='Mixed precision: float16 on a GPU, bfloat16 on the CPU')
    quantizable = [spec.cli_name for spec in models.MODELS.values() if spec.quantizable]
    runtime.add_argument('--int8', nargs='+', default=[], choices=quantizable, metavar='MODEL',
                         help=f'int8 quantization of these models (any of {", ".join(quantizable)}): '
                              'faster on the CPU at a measured quality cost (README, Performance); CPU only')
    runtime.add_argument('--torchscript', action='store_true',
                         help='Script the submodules that TorchScript accepts (HiFi-GAN, which can be one graph, is '
                              'traced and frozen whole)')
    runtime.add_argument('--cudnn-benchmark', action='store_true', help='Let cuDNN pick its fastest algorithms')

    benchmark = parser.add_argument_group('benchmark')
    benchmark.add_argument('--repeats', type=int, default=1, help='Measured passes over the input')
    benchmark.add_argument('--warmup-steps', type=int, default=0,
                           help='Measured runs (batches; lines with --stream) left out of the summary at the start')
    benchmark.add_argument('--include-warmup', action='store_true',
                           help='Run one unmeasured pass over the input first (two with --torchscript, which '
                                'optimizes on the second call)')
    add_audio_args(parser)
    add_text_args(parser)
    parser.set_defaults(text_cleaners=None)  # the generator's: each model knows the cleaners it was trained with
    return parser


def add_checkpoint_args(group):
    """One checkpoint flag per model: exactly one mel generator, at most one vocoder."""
    generators = group.add_mutually_exclusive_group(required=True)
    for spec in models.specs_of_role(GENERATOR):
        generators.add_argument(spec.inference_flag, metavar='CHECKPOINT',
                                help=f'{spec.name} checkpoint (mel generator)')
    vocoders = group.add_mutually_exclusive_group()
    for spec in models.specs_of_role(VOCODER):
        vocoders.add_argument(spec.inference_flag, metavar='CHECKPOINT',
                              help=f'{spec.name} checkpoint (vocoder); Griffin-Lim without a vocoder')
    group.add_argument('--allow-pickle', action='store_true',
                       help='Read checkpoints that hold pickled objects (of the original NVIDIA repositories); '
                            'trusted files only')


def checkpoint_path(args, spec):
    return getattr(args, spec.cli_name)


def chosen_specs(args):
    """(generator spec, vocoder spec or None) of the checkpoint flags given."""
    generator = next(spec for spec in models.specs_of_role(GENERATOR) if checkpoint_path(args, spec))
    vocoder = next((spec for spec in models.specs_of_role(VOCODER) if checkpoint_path(args, spec)), None)
    return generator, vocoder


def check_model_flags(args, used_specs):
    """A model's own synthesis flags only go with that model's checkpoint."""
    for spec in models.MODELS.values():
        if spec in used_specs:
            continue
        actions = spec.add_inference_args(argparse.ArgumentParser(add_help=False))._actions
        changed = [action.option_strings[0] for action in actions
                   if action.option_strings and action.dest != 'help' and getattr(args, action.dest) != action.default]
        if changed:
            raise InferenceError(f'{", ".join(changed)}: only with {spec.inference_flag}')


def check_stream_flags(args):
    """--stream's flags only with it; it vocodes one sentence at a time and writes audio only."""
    if args.stream:
        if args.batch_size not in (None, 1):
            raise InferenceError(f'-bs/--batch-size {args.batch_size}: --stream synthesizes one sentence at a time')
        if args.save_mels:
            raise InferenceError('--save-mels: not with --stream (it writes the audio only)')
    elif args.stream_chunk_frames is not None:
        raise InferenceError('--stream-chunk-frames: only with --stream')
    elif args.output == STDOUT:
        raise InferenceError('-o -: raw PCM on stdout only with --stream')


def fill_stream_defaults(args):
    """The defaults that depend on --stream."""
    if args.batch_size is None:
        args.batch_size = 1 if args.stream else DEFAULT_BATCH_SIZE
    if args.stream and args.stream_chunk_frames is None:
        args.stream_chunk_frames = STREAM_CHUNK_FRAMES


def check_args(args):
    check_stream_flags(args)
    fill_stream_defaults(args)
    positive = {'-bs/--batch-size': args.batch_size, '--repeats': args.repeats,
                '--max-piece-chars': args.max_piece_chars}
    if args.stream:
        positive['--stream-chunk-frames'] = args.stream_chunk_frames
    for flag, value in positive.items():
        if not value > 0:
            raise InferenceError(f'{flag} must be positive, got {value}')
    if args.warmup_steps < 0:
        raise InferenceError(f'--warmup-steps must not be negative, got {args.warmup_steps}')
    check_model_flags(args, chosen_specs(args))
    if args.cuda and not torch.cuda.is_available():
        raise InferenceError('--cuda: no CUDA GPU is available')
    for name in args.int8:
        if not getattr(args, name):
            raise InferenceError(f'--int8 {name}: no --{name} checkpoint is given')
    if args.int8 and args.cuda:
        raise InferenceError('--int8 runs on the CPU (fbgemm kernels): drop --cuda')
    if args.backend == ONNX_RUNTIME:
        pytorch_only = {'--int8': args.int8, '--amp': args.amp, '--torchscript': args.torchscript,
                        '--cuda': args.cuda, '--allow-pickle': args.allow_pickle}
        for flag, given in pytorch_only.items():
            if given:
                raise InferenceError(f'{flag}: a PyTorch flag; --backend onnxruntime runs exported files on the CPU '
                                     '(export.py --int8 makes int8 ones)')


def pick_device(args):
    if args.cpu or args.backend == ONNX_RUNTIME:
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


def load_synthesizer(spec, args, device):
    """The spec's generator or vocoder around the checkpoint's model: int8-quantized where --int8 names it,
    submodules scripted where --torchscript asks; or around the exported file, with --backend onnxruntime."""
    path = checkpoint_path(args, spec)
    if args.backend == ONNX_RUNTIME:
        from common.onnx_backend import OnnxBackendError, load_onnx_synthesizer  # ONNX Runtime loads for it only
        try:
            return load_onnx_synthesizer(spec, path, args)
        except OnnxBackendError as error:
            raise InferenceError(str(error)) from None
    try:
        model = models.load_model_from_checkpoint(spec.name, path, device, allow_pickle=args.allow_pickle)
    except CheckpointError as error:
        raise CheckpointError(f'{spec.inference_flag}: {error}') from None
    if spec.cli_name in args.int8:
        model = quantize_int8(model)
    if args.torchscript and spec.script_for_inference is not None:
        model, done = spec.script_for_inference(model)
        print(f'--torchscript: {spec.name}: {done}')
    elif args.torchscript:
        report_scripting(spec.name, *script_parts(model, spec.scriptable_parts))
    return spec.make_synthesizer(model, args, device)


class GriffinLimVocoder:
    """Phase reconstruction from the mel alone: intelligible but phasey; a stand-in where no vocoder is given."""

    def __init__(self, args, n_mel_channels, device):
        self.stft = TacotronSTFT(**{**stft_kwargs(args), 'n_mel_channels': n_mel_channels}).to(device)
        self.n_mel_channels = n_mel_channels
        self.hop_length = args.hop_length
        # Its random start phase is drawn per call, so no context makes chunks equal the whole; two STFT windows on
        # either side keep the reflect-padded ends, where the iterations settle worst, out of the audio kept.
        self.stream_context_frames = 2 * math.ceil(args.filter_length / args.hop_length)
        self.description = 'Griffin-Lim (no vocoder checkpoint given; expect metallic, phasey audio)'

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
    print(f'--torchscript: {model_name}: the rest stays eager (Python control flow)')


def _grouped(names):
    """'WN.0', 'WN.1', 'encoder' -> 'WN (2 modules), encoder'."""
    counts = {}
    for name in names:
        counts[name.split('.')[0]] = counts.get(name.split('.')[0], 0) + 1
    return ', '.join(top if count == 1 else f'{top} ({count} modules)' for top, count in counts.items())


def load_pipeline(args, device):
    """(mel generator, vocoder) from the checkpoint flags: the vocoder must take the generator's mel bands."""
    generator_spec, vocoder_spec = chosen_specs(args)
    check_trained_sampling_rates({spec.inference_flag: checkpoint_path(args, spec)
                                  for spec in (generator_spec, vocoder_spec) if spec}, args.sampling_rate)
    generator = load_synthesizer(generator_spec, args, device)
    if vocoder_spec is None:
        vocoder = GriffinLimVocoder(args, generator.n_mel_channels, device)
    else:
        vocoder = load_synthesizer(vocoder_spec, args, device)
        if vocoder.n_mel_channels != generator.n_mel_channels:
            raise InferenceError(
                f'{generator_spec.inference_flag} {checkpoint_path(args, generator_spec)} makes '
                f'{generator.n_mel_channels}-band mels but {vocoder_spec.inference_flag} '
                f'{checkpoint_path(args, vocoder_spec)} expects {vocoder.n_mel_channels}: they do not belong together')
    print(f'mel generator: {generator.description} from {checkpoint_path(args, generator_spec)}')
    print(f'vocoder: {vocoder.description}')
    return generator, vocoder


class Synthesizer:
    """Text ids of one batch -> per-item (mel, audio) trimmed to each item's own length, with the run's timings."""

    def __init__(self, generator, vocoder, device, amp_precision):
        self.generator = generator
        self.vocoder = vocoder
        self.device = device
        self.precision = amp_precision

    def __call__(self, sequences):
        timings = {}
        with latency.timed(self.device, timings, 'latency'):
            with latency.timed(self.device, timings, 'generator_latency'):
                mel, mel_lengths, overrun = self.generate(sequences)
            with latency.timed(self.device, timings, 'vocoder_latency'):
                audio = self.vocode(mel)
            hop = self.vocoder.hop_length
            items = [(mel[i, :, :n].float().cpu(), audio[i, :n * hop].cpu()) for i, n in enumerate(mel_lengths)]
        timings.update(mel_frames=sum(mel_lengths), audio_samples=sum(n * hop for n in mel_lengths),
                       utterances=len(sequences))
        return items, overrun, timings

    def generate(self, sequences):
        """Symbol ids of a batch -> (padded mel on the device, mel length per item, overrun flag per item)."""
        text, lengths = pad_sequences(sequences)
        with self.precision.autocast():
            mel, mel_lengths, overrun = self.generator(text.to(self.device), lengths.to(self.device))
        overrun = [False] * len(sequences) if overrun is None else overrun.cpu().tolist()
        return mel, mel_lengths.cpu().tolist(), overrun

    def vocode(self, mel):
        """(B, n_mel, frames) -> float32 audio (B, at least frames * hop_length); a longer batch than
        VOCODE_FRAMES_PER_CALL is vocoded in chunks with the vocoder's context (common/streaming.py): the same audio
        to float rounding (WaveGlow at sigma 0), in memory bounded however long the sentences."""
        chunk_frames = max(VOCODE_FRAMES_PER_CALL // mel.size(0), MIN_VOCODE_CHUNK_FRAMES)
        if mel.size(2) <= chunk_frames:
            return self._vocode_whole(mel)
        return torch.cat(list(vocode_in_chunks(self._vocode_whole, mel, chunk_frames,
                                               self.vocoder.stream_context_frames, self.vocoder.hop_length)), dim=1)

    def _vocode_whole(self, mel):
        if mel.size(2) == 0:
            return mel.new_zeros(mel.size(0), 0, dtype=torch.float32)
        missing = MIN_VOCODER_FRAMES - mel.size(2)
        if missing > 0:  # silence after the end; trimmed away again with the item's length
            mel = F.pad(mel, (0, missing), value=SILENT_MEL)
        return self.vocoder(mel, self.precision.autocast())


class StreamingSynthesizer(Synthesizer):
    """--stream: the sentences of one input line one at a time, each sentence's mel vocoded in chunks
    (common/streaming.py) and every chunk handed to `write` as soon as it is ready, faded out at the sentence's end
    and followed by the pause before the next sentence as in write_outputs."""

    def __init__(self, generator, vocoder, device, amp_precision, args):
        super().__init__(generator, vocoder, device, amp_precision)
        self.chunk_frames = args.stream_chunk_frames
        self.pause_samples = pause_samples(vocoder.hop_length, args)
        self.fade_samples = fade_samples(args)

    def __call__(self, sequences, write):
        """-> (mel frames per sentence, overrun flag per sentence, the line's timings): those of a batch run, less
        the time spent in `write`, and first_audio_latency, from the start to the first chunk ready."""
        timings, frames, overrun = {'writing': 0.0}, [], []
        latency.synchronize(self.device)
        start = time.perf_counter()
        for index, ids in enumerate(sequences):
            if index:
                self._write(write, torch.zeros(self.pause_samples), timings)
            with latency.timed(self.device, timings, 'generator_latency'):
                mel, [n_frames], [stopped] = self.generate([ids])
            n_samples = n_frames * self.vocoder.hop_length
            for offset, chunk in self._chunks(mel[:, :, :n_frames], timings):
                timings.setdefault('first_audio_latency', time.perf_counter() - start)
                self._write(write, fade_out_part(chunk, offset, n_samples, self.fade_samples), timings)
            frames.append(n_frames)
            overrun.append(stopped)
        latency.synchronize(self.device)
        timings['latency'] = time.perf_counter() - start - timings.pop('writing')
        timings.setdefault('first_audio_latency', timings['latency'])  # a line that made no audio at all
        timings.setdefault('vocoder_latency', 0.0)
        timings.update(mel_frames=sum(frames), audio_samples=sum(frames) * self.vocoder.hop_length,
                       utterances=len(sequences))
        return frames, overrun, timings

    def _chunks(self, mel, timings):
        """(offset in the sentence's audio, float32 audio on the CPU) of each chunk, the vocoder's time added up."""
        def timed_vocode(part):
            with latency.timed(self.device, timings, 'vocoder_latency'):
                return self.vocode(part)

        offset = 0
        for chunk in vocode_in_chunks(timed_vocode, mel, self.chunk_frames, self.vocoder.stream_context_frames,
                                      self.vocoder.hop_length):
            chunk = chunk[0].cpu()
            yield offset, chunk
            offset += chunk.numel()

    @staticmethod
    def _write(write, audio, timings):
        with latency.timed('cpu', timings, 'writing'):  # nothing on a device to wait for
            write(audio)


def warmup_passes(args):
    """TorchScript's profiling executor optimizes a scripted module on its second call with a given input shape,
    so with --torchscript the warm-up covers every batch shape twice."""
    if not args.include_warmup:
        return 0
    return 2 if args.torchscript else 1


def measure(synthesize, pieces, windows, args, logger, deliver):
    """Synthesize every batch of every window (windowed_batches) --repeats times, after the unmeasured warm-up passes
    of --include-warmup. The first measured pass hands each piece's (mel, audio) to deliver(piece index, mel, audio)
    in input order as soon as its window is done: only one window's outputs are held at a time. Returns that pass's
    mel frames and overrun flag per piece, and the timings of every run."""
    mel_frames, overrun, runs = [0] * len(pieces), [False] * len(pieces), []
    with torch.inference_mode():
        for _ in range(warmup_passes(args)):
            for batch in (batch for window in windows for batch in window):
                synthesize([pieces[i][1] for i in batch])
        for repeat in range(args.repeats):
            for window in windows:
                held = {}
                for batch in window:
                    items, batch_overrun, timings = synthesize([pieces[i][1] for i in batch])
                    timings['batch_size'] = len(batch)
                    logger.log(f'run {len(runs)}', timings)
                    runs.append(timings)
                    if repeat == 0:
                        for i, item, stopped in zip(batch, items, batch_overrun):
                            held[i], mel_frames[i], overrun[i] = item, item[0].size(1), stopped
                for i in sorted(held):
                    deliver(i, *held.pop(i))
    return mel_frames, overrun, runs


def stream_lines(synthesize, lines, args, logger, open_line):
    """--stream: every input line (its sentences' symbol ids in `lines`) is one run, --repeats times, after the
    warm-up passes of --include-warmup. The first measured pass writes line k's audio through open_line(k), the
    others discard theirs. Returns that pass's mel frames and overrun flag per piece, and the timings of every run."""
    mel_frames, overrun, runs = [], [], []
    with torch.inference_mode():
        for _ in range(warmup_passes(args)):
            for sequences in lines:
                synthesize(sequences, discard)
        for repeat in range(args.repeats):
            for index, sequences in enumerate(lines):
                with open_line(index) if repeat == 0 else contextlib.nullcontext(discard) as write:
                    frames, line_overrun, timings = synthesize(sequences, write)
                timings['batch_size'] = 1
                logger.log(f'run {len(runs)}', timings)
                runs.append(timings)
                if repeat == 0:
                    mel_frames += frames
                    overrun += line_overrun
    return mel_frames, overrun, runs


def discard(audio):
    """A writer that keeps nothing."""


def line_writers(phrases, output_dir, pcm_out, pause_samples, args):
    """open_line(k) for stream_lines: a context that yields write(audio) for input line k, into its WAV file, to
    stdout (after the pause that follows the line before), or nowhere."""
    if output_dir is not None:
        return lambda k: wav_writer(output_dir / phrases[k].output_name, args.sampling_rate)
    if pcm_out is not None:
        return lambda k: pcm_writer(pcm_out, pause_samples if k else 0)
    return lambda k: contextlib.nullcontext(discard)


@contextlib.contextmanager
def pcm_writer(stream, pause_samples):
    """write(audio) as raw 16-bit little-endian PCM, flushed at once so that a player gets every chunk as it comes;
    the pause goes first."""
    def write(audio):
        stream.write(pcm16(audio, 'stdout').astype('<i2').tobytes())
        stream.flush()

    write(torch.zeros(pause_samples))
    yield write


def report_problems(phrases, pieces, mel_frames, overrun, generator, args, logger):
    """Per input line: a generator that hit its length limit, and a sentence that produced no frames."""
    overrun_lines = sorted({phrases[pieces[i][0]].line_number for i, stopped in enumerate(overrun) if stopped})
    for line_number in overrun_lines:
        print(f'warning: {args.input}:{line_number}: {generator.overrun_message}', file=sys.stderr)
        logger.log('warning', {**generator.overrun_event, 'input': args.input, 'line': line_number})
    for (phrase_index, _), frames in zip(pieces, mel_frames):
        if frames == 0:
            print(f'warning: {args.input}:{phrases[phrase_index].line_number}: a sentence produced no mel frames',
                  file=sys.stderr)


def pause_frames(hop_length, args):
    """Mel frames of silence between the sentences of a line."""
    return round(SENTENCE_PAUSE_S * args.sampling_rate / hop_length)


def pause_samples(hop_length, args):
    return pause_frames(hop_length, args) * hop_length


def fade_samples(args):
    return round(FADE_OUT_S * args.sampling_rate)


def line_assembler(phrases, pieces, output_dir, hop_length, args):
    """The LineAssembler of the batched path: each line into its WAV in output_dir as its pieces come (nowhere
    without one), and with --save-mels its mel as <name>_mel.pt."""
    def save_mel(line, mel):
        torch_save_atomic(mel, output_dir / f'{Path(phrases[line].output_name).stem}_mel.pt')

    return LineAssembler([phrase_index for phrase_index, _ in pieces], line_writers(phrases, output_dir, None, 0, args),
                         pause_frames(hop_length, args), hop_length, fade_samples(args),
                         save_mel if args.save_mels and output_dir is not None else None)


def precision_name(amp_precision, args):
    """'fp32', 'bf16' or 'fp16' (--amp), plus the models quantized to int8: 'fp32, int8 waveglow'."""
    return f'{amp_precision.name}, int8 {"+".join(args.int8)}' if args.int8 else amp_precision.name


def run(args):
    check_args(args)
    if args.output != STDOUT:
        return synthesize_input(args, pcm_out=None)
    pcm_out = sys.stdout.buffer  # taken before the messages are sent to stderr: stdout carries the audio only
    with contextlib.redirect_stdout(sys.stderr):
        return synthesize_input(args, pcm_out)


def synthesize_input(args, pcm_out):
    """Everything after the flag checks; the audio goes to -o's folder, to pcm_out (-o - with --stream) or nowhere."""
    phrases = read_phrases(args.input)
    output_dir = prepare_output_dir(args.output) if args.output and pcm_out is None else None
    device = pick_device(args)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    amp_precision = inference_precision(device, args.amp)
    generator, vocoder = load_pipeline(args, device)
    print(f'device: {device}, precision: {precision_name(amp_precision, args)}')

    pieces = plan_pieces(phrases, args.input, args.max_piece_chars, generator.text_processing)
    if len(pieces) > args.batch_size * WINDOW_BATCHES:
        # more than one window: bounded memory is worth the page faults of fresh mappings (common/native_memory.py)
        release_large_blocks()
    if args.stream:  # one run per input line
        runs_per_pass = pieces_by_phrase(pieces, [ids for _, ids in pieces], len(phrases))
    else:
        windows = windowed_batches([len(ids) for _, ids in pieces], args.batch_size)
        runs_per_pass = [batch for window in windows for batch in window]
    if args.warmup_steps >= len(runs_per_pass) * args.repeats:
        raise InferenceError(f'--warmup-steps {args.warmup_steps} leaves no measured run ({len(runs_per_pass)} '
                             f'{"lines" if args.stream else "batches"} x {args.repeats} repeats)')
    logger = Logger(log_file=args.log_file or (output_dir / DEFAULT_LOG_NAME if output_dir else None), stdout=None)
    logger.log('parameters', vars(args))

    torch.manual_seed(args.seed)
    if args.stream:
        synthesizer = StreamingSynthesizer(generator, vocoder, device, amp_precision, args)
        open_line = line_writers(phrases, output_dir, pcm_out, pause_samples(vocoder.hop_length, args), args)
        mel_frames, overrun, runs = stream_lines(synthesizer, runs_per_pass, args, logger, open_line)
    else:
        with line_assembler(phrases, pieces, output_dir, vocoder.hop_length, args) as assembler:
            mel_frames, overrun, runs = measure(Synthesizer(generator, vocoder, device, amp_precision), pieces,
                                                windows, args, logger, assembler.add)
    report_problems(phrases, pieces, mel_frames, overrun, generator, args, logger)
    if output_dir is not None:
        print(f'wrote {len(phrases)} WAV files to {output_dir}')

    summary = latency.summarize(runs[args.warmup_steps:], args.sampling_rate)
    summary.update(batch_size=args.batch_size, precision=precision_name(amp_precision, args), device=str(device))
    logger.log((), summary)
    logger.close()
    print(latency.format_table(summary))
    return 0


@command('inference.py')
def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if mel_vocoding.recognises(argv):  # NVIDIA/waveglow's -f mel_files.txt -w CKPT: saved mels to WAVs
        return mel_vocoding.main(argv)
    return run(build_parser().parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
