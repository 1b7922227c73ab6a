"""Text to speech from exported ONNX files (export.py) with ONNX Runtime and numpy alone: no PyTorch.

    python -m common.onnx_runtime --generator fastpitch.onnx --vocoder hifigan.onnx -i phrases.txt -o out/

Each file's metadata (common/export.py) says how to run it, so this module names no model: a TEXT_TO_MEL graph
(FastPitch) takes symbol ids and the synthesis controls; an AUTOREGRESSIVE_TEXT_TO_MEL folder (Tacotron 2) is an
encoder, a decoder step run here in a loop until every item's stop gate fires, and a postnet; a MEL_TO_AUDIO graph
(HiFi-GAN, WaveGlow) takes a mel, and the noise z where the graph has one (sigma * N(0, 1); zeros at sigma 0).

What stays in the PyTorch path: splitting long lines into sentences, and the denoiser (inference.py --backend
onnxruntime has both). Here each input line is synthesized whole and written as audio_<k>.wav (k the 0-based line),
16-bit PCM, by the standard library's wave module.
"""
import json
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime

from common.cli import ArgumentParser, command, non_negative_float, positive_float, positive_int
from common.export_format import (AUTOREGRESSIVE_GRAPHS, AUTOREGRESSIVE_TEXT_TO_MEL, MEL_TO_AUDIO, METADATA_KEY,
                                   TEXT_TO_MEL)
from common.text.processing import text_processing


class OnnxModelError(ValueError):
    """An ONNX file or folder this runtime cannot run, or a control it does not take; the message names it."""


def open_session(path, threads=0):
    """An ONNX Runtime CPU session with all graph optimisations; threads 0 lets ONNX Runtime choose."""
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=['CPUExecutionProvider'])
    except Exception as error:  # ONNX Runtime raises its own exception types for unreadable files
        raise OnnxModelError(f'{path}: not an ONNX model ONNX Runtime can load ({str(error).splitlines()[0]})') \
            from None


def session_metadata(session, path):
    text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if text is None:
        raise OnnxModelError(f'{path}: no {METADATA_KEY!r} metadata: export the model with export.py')
    return json.loads(text)


def load(path, threads=0, **options):
    """The runtime of an exported file (or of a folder of graphs), with its options: a text-to-mel runtime takes
    the text front end's (text_cleaners, p_arpabet, cmudict, heteronyms) and its graph's controls as defaults
    (FastPitch: pace, pitch_flatten, pitch_invert, pitch_amplify, pitch_shift_hz, speaker), an autoregressive one
    text_cleaners, prenet_dropout and max_decoder_steps; a vocoder takes sigma."""
    return runtime_of(open_export(path, threads), **options)


@dataclass(frozen=True)
class Export:
    """The sessions of an export's graphs ({graph name: session}) and its metadata."""
    path: Path
    sessions: dict
    metadata: dict


def open_export(path, threads=0):
    path = Path(path)
    if path.is_dir():
        sessions = {name: open_session(path / f'{name}.onnx', threads) for name in AUTOREGRESSIVE_GRAPHS
                    if (path / f'{name}.onnx').is_file()}
        if len(sessions) != len(AUTOREGRESSIVE_GRAPHS):
            files = ', '.join(f'{name}.onnx' for name in AUTOREGRESSIVE_GRAPHS)
            raise OnnxModelError(f'{path}: a folder export needs {files}')
    elif path.is_file():
        sessions = {'': open_session(path, threads)}
    else:
        raise OnnxModelError(f'{path}: no such file or folder')
    return Export(path, sessions, session_metadata(next(iter(sessions.values())), path))


def runtime_of(export, **options):
    """The runtime that runs this export's graphs, as its metadata says."""
    runtimes = {TEXT_TO_MEL: TextToMel, AUTOREGRESSIVE_TEXT_TO_MEL: AutoregressiveTextToMel, MEL_TO_AUDIO: MelToAudio}
    kind = export.metadata['runtime']
    if kind not in runtimes:
        raise OnnxModelError(f'{export.path}: unknown runtime {kind!r} (a newer export?)')
    try:
        return runtimes[kind](export.sessions, export.metadata, export.path, **options)
    except TypeError as error:  # an option this kind of model does not take
        raise OnnxModelError(f'{export.path}: {export.metadata["model"]}: {error}') from None


def run_kept_inputs(session, outputs, feed):
    """session.run with the inputs the graph has (an export drops the inputs a graph does not use)."""
    kept = {node.name for node in session.get_inputs()}
    return session.run(list(outputs), {name: value for name, value in feed.items() if name in kept})


def pad(sequences, padding_id):
    """Symbol id lists -> (ids (B, T) int64 padded with padding_id, lengths (B,) int64)."""
    lengths = np.array([len(ids) for ids in sequences], dtype=np.int64)
    text = np.full((len(sequences), max(lengths.max(initial=0), 1)), padding_id, dtype=np.int64)
    for row, ids in zip(text, sequences):
        row[:len(ids)] = ids
    return text, lengths


class _Generator:
    """What both generator runtimes share: the text front end the model was exported with."""
    role = 'generator'

    def __init__(self, metadata, path, text_cleaners=None, p_arpabet=0.0, cmudict=None, heteronyms=None):
        self.metadata = metadata
        self.path = path
        self.n_mel_channels = metadata['n_mel_channels']
        self.padding_id = metadata['padding_id']
        self.text_processing = text_processing(text_cleaners or metadata['text_cleaners'], p_arpabet, cmudict,
                                               heteronyms, front_end=metadata['text_front_end'])

    def encode(self, texts):
        """Texts -> (ids (B, T), lengths (B,)) through the model's text front end."""
        return pad([self.text_processing.encode_text(text) for text in texts], self.padding_id)


class TextToMel(_Generator):
    """One graph: ids and per-item controls -> (mel (B, n_mel, F), mel lengths (B,)). The controls and their
    neutral values are the export's (metadata 'controls'); integer ones (speaker ids) are fed as int64."""

    def __init__(self, sessions, metadata, path, text_cleaners=None, p_arpabet=0.0, cmudict=None, heteronyms=None,
                 **controls):
        super().__init__(metadata, path, text_cleaners, p_arpabet, cmudict, heteronyms)
        self.session = sessions['']
        self.neutral = metadata['controls']
        self.controls = self._checked({**self.neutral, **controls})

    def _checked(self, controls):
        unknown = sorted(set(controls) - set(self.neutral))
        if unknown:
            raise TypeError(f'unknown control {unknown[0]!r} (it takes {", ".join(self.neutral)})')
        if not controls.get('pace', 1.0) > 0:
            raise OnnxModelError(f'pace must be positive, got {controls["pace"]}')
        n_speakers = self.metadata.get('n_speakers', 1)
        if not 0 <= controls.get('speaker', 0) < n_speakers:
            raise OnnxModelError(f'{self.path}: speaker {controls["speaker"]} is out of range: the model has '
                                 f'{n_speakers} speaker(s)')
        return controls

    def __call__(self, text, lengths, **controls):
        """text (B, T) int64 (positions past each length are padding), lengths (B,); controls override the
        defaults given at load."""
        controls = self._checked({**self.controls, **controls})
        text = np.where(np.arange(text.shape[1]) < lengths[:, None], text, self.padding_id).astype(np.int64)
        batch = len(text)
        feed = {name: np.full(batch, value, dtype=np.int64 if isinstance(self.neutral[name], int) else np.float32)
                for name, value in controls.items()}
        mel, mel_lengths = run_kept_inputs(self.session, ('mel', 'mel_lengths'), {'text': text, **feed})
        return mel, mel_lengths


class AutoregressiveTextToMel(_Generator):
    """Encoder, decoder step (in a loop here), postnet -> (mel (B, n_mel, T), mel lengths (B,) int32, unfinished
    (B,) bool: the gate never fired within max_decoder_steps)."""

    def __init__(self, sessions, metadata, path, text_cleaners=None, prenet_dropout=None, max_decoder_steps=None):
        super().__init__(metadata, path, text_cleaners)
        self.encoder, self.step, self.postnet = (sessions[name] for name in AUTOREGRESSIVE_GRAPHS)
        self.prenet_dropout = metadata['prenet_dropout'] if prenet_dropout is None else prenet_dropout
        self.max_decoder_steps = max_decoder_steps or metadata['max_decoder_steps']
        inputs = {node.name: node.shape for node in self.step.get_inputs()}
        self.state_names = [name for name in inputs if f'next_{name}' in
                            {node.name for node in self.step.get_outputs()} and name != 'frame']
        self.prenet_sizes = [inputs[name][1] for name in ('dropout_mask_1', 'dropout_mask_2')]
        self.state_widths = {name: inputs[name][1] for name in self.state_names}

    def __call__(self, text, lengths, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        memory, processed_memory, mask = self.encoder.run(None, {'text': text, 'text_lengths': lengths})
        batch, n_symbols = mask.shape
        state = {name: np.zeros((batch, n_symbols if isinstance(width, str) else width), dtype=np.float32)
                 for name, width in self.state_widths.items()}
        frame = np.zeros((batch, self.n_mel_channels), dtype=np.float32)
        fixed = {'memory': memory, 'processed_memory': processed_memory, 'mask': mask}
        frames, gates = [], []
        finished = np.zeros(batch, dtype=bool)
        for _ in range(self.max_decoder_steps):
            masks = {f'dropout_mask_{i + 1}': self._dropout_mask(rng, batch, size)
                     for i, size in enumerate(self.prenet_sizes)}
            outputs = self.step.run(None, {'frame': frame, **masks, **state, **fixed})
            named = dict(zip((node.name for node in self.step.get_outputs()), outputs))
            frame, gate = named['next_frame'], named['gate_logit']
            state = {name: named[f'next_{name}'] for name in self.state_names}
            frames.append(frame)
            gates.append(gate)
            finished |= self._fires(gate)
            if self.metadata['early_stopping'] and finished.all():
                break
        fires = self._fires(np.stack(gates))
        unfinished = ~fires.any(axis=0)
        mel_lengths = np.where(unfinished, len(frames), fires.argmax(axis=0)).astype(np.int32)
        mel, = self.postnet.run(None, {'mel': np.stack(frames, axis=2)})
        return mel, mel_lengths, unfinished

    def _fires(self, gate_logits):
        """As the model decides: not (sigmoid <= threshold), so that a NaN logit stops an item too."""
        return ~(1 / (1 + np.exp(-gate_logits)) <= self.metadata['gate_threshold'])

    def _dropout_mask(self, rng, batch, size):
        """The prenet's dropout, which stays on at synthesis: kept units scaled by 1 / (1 - p)."""
        p = self.prenet_dropout
        if p <= 0:
            return np.ones((batch, size), dtype=np.float32)
        return ((rng.random((batch, size)) >= p) / (1 - p)).astype(np.float32)


class MelToAudio:
    """mel (B, n_mel, F) -> audio (B, F * hop_length) float32."""
    role = 'vocoder'

    def __init__(self, sessions, metadata, path, sigma=0.0):
        self.session = sessions['']
        self.metadata = metadata
        self.path = path
        self.n_mel_channels = metadata['n_mel_channels']
        self.hop_length = metadata['hop_length']
        self.sigma = sigma
        self.takes_noise = 'z' in {node.name for node in self.session.get_inputs()}

    def __call__(self, mel, rng=None, sigma=None):
        """sigma overrides the one given at load (0 for the deterministic output a denoiser measures)."""
        sigma = self.sigma if sigma is None else sigma
        feed = {'mel': mel.astype(np.float32)}
        if self.takes_noise:
            steps = mel.shape[2] * self.hop_length // self.metadata['n_group']
            shape = (mel.shape[0], self.metadata['n_group'], steps)
            rng = np.random.default_rng() if rng is None else rng
            feed['z'] = (sigma * rng.standard_normal(shape)).astype(np.float32)
        audio, = self.session.run(['audio'], feed)
        return audio


def synthesize(texts, generator, vocoder):
    """Texts -> one float32 audio array per text, each cut to its own length."""
    text, lengths = generator.encode(texts)
    mel, mel_lengths = generator(text, lengths)[:2]
    audio = vocoder(mel)
    return [audio[i, :n * vocoder.hop_length] for i, n in enumerate(mel_lengths)]


def write_wav(path, audio, sampling_rate):
    """float audio in [-1, 1] -> 16-bit mono PCM WAV, scaled and rounded as common/audio.py's save_wav does (which
    needs torch), written beside and renamed (never half a file)."""
    pcm = np.clip(np.round(audio * 32768), -32768, 32767).astype('<i2')
    temporary = path.with_name(f'.{path.name}.tmp')
    with wave.open(str(temporary), 'wb') as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sampling_rate)
        file.writeframes(pcm.tobytes())
    temporary.replace(path)


@command('python -m common.onnx_runtime')
def main(argv=None):
    parser = ArgumentParser(prog='python -m common.onnx_runtime', description=__doc__.split('\n')[0])
    parser.add_argument('--generator', required=True, help='Exported mel generator (.onnx file, or folder)')
    parser.add_argument('--vocoder', required=True, help='Exported vocoder (.onnx file)')
    parser.add_argument('-i', '--input', required=True, help='Text file, one utterance per line')
    parser.add_argument('-o', '--output', required=True, help='Folder for the WAV files')
    parser.add_argument('--sampling-rate', type=positive_int, default=22050)
    parser.add_argument('--sigma', type=non_negative_float, default=0.0,
                        help='Noise scale of a vocoder that takes noise')
    parser.add_argument('--pace', type=positive_float, default=1.0, help='Speaking rate of a text-to-mel graph')
    args = parser.parse_args(argv)
    generator_options = {'pace': args.pace} if args.pace != 1.0 else {}
    generator, vocoder = load(args.generator, **generator_options), load(args.vocoder, sigma=args.sigma)
    if (generator.role, vocoder.role) != ('generator', 'vocoder'):
        raise OnnxModelError(f'--generator {args.generator} and --vocoder {args.vocoder}: a mel generator and '
                             'a vocoder are needed, in that order')
    if generator.n_mel_channels != vocoder.n_mel_channels:
        raise OnnxModelError(f'--generator {args.generator} makes {generator.n_mel_channels}-band mels but '
                             f'--vocoder {args.vocoder} takes {vocoder.n_mel_channels}')
    lines = Path(args.input).read_text(encoding='utf-8').splitlines()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    for number, line in enumerate(lines):
        if line.strip():
            audio, = synthesize([line.strip()], generator, vocoder)
            write_wav(output / f'audio_{number}.wav', audio, args.sampling_rate)
    print(f'wrote {sum(bool(line.strip()) for line in lines)} WAV files to {output}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
