"""Build the embedded eSpeak NG corpus: `python -m common.corpus.build --output DIR --num-clips N`.

Layout (LJSpeech's, plus timings):
    DIR/wavs/ID.wav         mono 16-bit PCM at eSpeak's 22050 Hz (or --sampling-rate), 1 to 10 s; IDs ES001-0001 ..
                            ES001-0100, ES002-0001, ...
    DIR/metadata.csv        ID|text|normalized text  (normalized = common.text.cleaners.english_cleaners(text))
    DIR/timings/ID.json     eSpeak's events for the clip (format below)
    DIR/corpus_info.json    backend, its version, voice, rate, pitch, seed: what made these bytes

Timings, one JSON object per clip:
    {"sampling_rate": the WAV's, "num_samples": int, "text": the exact string spoken (the normalized text),
     "words":    [{"text_position": 0-based character offset into "text", "length": characters,
                   "start_sample": int}, ...],
     "phonemes": [{"name": eSpeak's phoneme symbol ('_' and '_:' are pauses), "start_sample": int}, ...]}
  Phoneme start samples never decrease (zero-length phonemes occur) and lie in [0, num_samples); the first phoneme
  may start after 0 (leading silence) and the last one lasts until num_samples. Word events start on word
  boundaries, but eSpeak joins some written words into one event: 'twenty-one' gives one event of length 6
  ('twenty'), so not every word of the text has an event.

At another --sampling-rate than eSpeak's, the audio is resampled (soxr) and every event's sample scaled to the
new rate (rounded), so that the timings describe the WAV as written.

eSpeak speaks the normalized text, so the word events point into exactly the characters that training sees.
Sentences come from common.corpus.sentences; a clip keeps its sentence when the normalized text uses only the
symbols of common.text.symbols and the audio lasts 1 to 10 s, otherwise the clip tries its next sentence.

Each clip is synthesized in a fresh worker process (eSpeak's state carries over between calls and it cannot be
re-initialised). Every file is written atomically (common/fileio.py). A rerun keeps complete clips (WAV and timings
present) and synthesizes only what is missing; metadata.csv is written last. The same backend gives the same bytes
on every run.

The corpus only: its train/val/test filelists come from metadata.csv like LJSpeech's, through common/splits.py
(scripts/prepare_dataset.sh or scripts/split_metadata.py --prefix espeak).
"""
import dataclasses
import io
import json
import multiprocessing
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
from tqdm import tqdm

from common.cli import ArgumentParser, command, positive_int
from common.corpus import espeak
from common.corpus.sentences import sentence
from common.fileio import write_bytes_atomic, write_text_atomic
from common.text.cleaners import english_cleaners
from common.text.symbols import symbols

MIN_SECONDS = 1.0
MAX_SECONDS = 10.0
MAX_ATTEMPTS = 50           # sentences tried per clip before giving up
CLIPS_PER_CHAPTER = 100     # ES001-0001 .. ES001-0100, then ES002-0001


class CorpusError(ValueError):
    """An output folder or a request that the corpus builder cannot work with."""


@dataclass(frozen=True)
class Speaker:
    """Everything that decides how a text sounds."""
    backend: espeak.Backend
    voice: str
    rate: int
    pitch: int
    sampling_rate: int | None  # None: eSpeak's own


@dataclass(frozen=True)
class ClipJob:
    output_dir: str
    clip_id: str
    text: str
    speaker: Speaker


def clip_id(clip_number):
    """1 -> 'ES001-0001', 101 -> 'ES002-0001'."""
    chapter, index = divmod(clip_number - 1, CLIPS_PER_CHAPTER)
    return f'ES{chapter + 1:03d}-{index + 1:04d}'


def wav_bytes(samples, sampling_rate):
    """16-bit mono PCM samples as the bytes of a WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, 'wb') as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sampling_rate)
        wav.writeframes(samples)
    return buffer.getvalue()


def timings_path(output_dir, identifier):
    return Path(output_dir) / 'timings' / f'{identifier}.json'


def wav_path(output_dir, identifier):
    return Path(output_dir) / 'wavs' / f'{identifier}.wav'


def probe_speaker(speaker):
    """(library version, sampling rate), from a short utterance; fails early on a voice eSpeak lacks."""
    synthesis = espeak.synthesize(speaker.backend, 'probe', speaker.voice, speaker.rate, speaker.pitch)
    return synthesis.version, synthesis.sampling_rate


def make_clip(job):
    """Synthesize one clip and write its WAV and timings if it lasts MIN_SECONDS..MAX_SECONDS.

    Runs in a fresh process. Returns (clip_id, accepted).
    """
    speaker = job.speaker
    synthesis = espeak.synthesize(speaker.backend, job.text, speaker.voice, speaker.rate, speaker.pitch)
    seconds = synthesis.num_samples / synthesis.sampling_rate
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return job.clip_id, False
    if speaker.sampling_rate not in (None, synthesis.sampling_rate):
        synthesis = resampled(synthesis, speaker.sampling_rate)
    timings = {'sampling_rate': synthesis.sampling_rate, 'num_samples': synthesis.num_samples, 'text': job.text,
               'words': synthesis.words, 'phonemes': synthesis.phonemes}
    write_bytes_atomic(wav_path(job.output_dir, job.clip_id), wav_bytes(synthesis.samples, synthesis.sampling_rate))
    write_text_atomic(timings_path(job.output_dir, job.clip_id), json.dumps(timings, indent=1))
    return job.clip_id, True


def resampled(synthesis, sampling_rate):
    """The synthesis at another rate: int16 audio through soxr (numpy only: a clip's fresh worker process would
    spend longer importing common.audio's torch than speaking), event samples scaled and kept inside the audio."""
    audio = np.frombuffer(synthesis.samples, dtype='<i2').astype(np.float32) / 32768
    audio = soxr.resample(audio, synthesis.sampling_rate, sampling_rate, quality='HQ')
    samples = np.clip(np.round(audio * 32768), -32768, 32767).astype('<i2')

    def scaled(events):
        return [{**event, 'start_sample': min(round(event['start_sample'] * sampling_rate / synthesis.sampling_rate),
                                              len(samples) - 1)} for event in events]
    return dataclasses.replace(synthesis, sampling_rate=sampling_rate, samples=samples.tobytes(),
                               words=scaled(synthesis.words), phonemes=scaled(synthesis.phonemes))


def text_candidates(seed, clip_number):
    """Yield (text, normalized text) for the clip's sentences whose normalized text has only known symbols."""
    known = set(symbols)
    for attempt in range(MAX_ATTEMPTS):
        text = sentence(seed, clip_number, attempt)
        normalized = english_cleaners(text)
        if normalized and set(normalized) <= known:
            yield text, normalized


def next_candidate(candidates, identifier):
    candidate = next(candidates[identifier], None)
    if candidate is None:
        raise CorpusError(f'clip {identifier}: no sentence of {MIN_SECONDS:g}-{MAX_SECONDS:g} s with known symbols '
                          f'in {MAX_ATTEMPTS} attempts')
    return candidate


def existing_clip_text(output_dir, identifier, candidates):
    """The (text, normalized) of a complete clip on disk, or None if the clip is missing or incomplete."""
    timings_file = timings_path(output_dir, identifier)
    if not (timings_file.is_file() and wav_path(output_dir, identifier).is_file()):
        return None
    try:
        spoken = json.loads(timings_file.read_text())['text']
    except (ValueError, KeyError) as error:
        raise CorpusError(f'{timings_file}: not a timings file ({error}); delete it to rebuild the clip') from None
    for text, normalized in candidates:
        if normalized == spoken:
            return text, normalized
    raise CorpusError(f'{timings_file}: its text is not one that this seed and text front end generate; '
                      'build into a new --output folder')


def check_corpus_info(output_dir, info):
    """Refuse to add clips to a corpus made with other settings (the clips would not match), then record them."""
    info_file = Path(output_dir) / 'corpus_info.json'
    if info_file.is_file():
        recorded = json.loads(info_file.read_text())
        for key, value in info.items():
            if recorded.get(key) != value:
                raise CorpusError(f'{info_file}: corpus was built with {key}={recorded.get(key)!r}, not {value!r}; '
                                  'build into a new --output folder')
    write_text_atomic(info_file, json.dumps(info, indent=1) + '\n')


def write_metadata(output_dir, texts):
    lines = ''.join(f'{identifier}|{text}|{normalized}\n' for identifier, (text, normalized) in texts.items())
    write_text_atomic(Path(output_dir) / 'metadata.csv', lines)


def synthesize_missing(pool, output_dir, candidates, texts, speaker):
    """Synthesize clips absent from `texts` (filling it), each trying its next sentence until one fits.

    Returns how many clips were synthesized.
    """
    pending = {identifier: next_candidate(candidates, identifier) for identifier in candidates
               if identifier not in texts}
    missing = len(pending)
    with tqdm(total=len(pending), unit='clip', desc='synthesizing') as progress:
        while pending:
            jobs = [ClipJob(str(output_dir), identifier, normalized, speaker)
                    for identifier, (_, normalized) in pending.items()]
            retries = {}
            for identifier, accepted in pool.imap_unordered(make_clip, jobs):
                if accepted:
                    texts[identifier] = pending[identifier]
                    progress.update()
                else:
                    retries[identifier] = next_candidate(candidates, identifier)
            pending = retries
    return missing


def worker_pool(workers):
    """Worker processes replaced after every task, so that each clip meets a freshly loaded eSpeak library.

    Forked workers start at once, without re-importing anything; this process itself never loads eSpeak (and
    if it had, espeak.synthesize would refuse to run in its children rather than give different audio).
    """
    method = 'fork' if 'fork' in multiprocessing.get_all_start_methods() else 'spawn'
    return multiprocessing.get_context(method).Pool(workers, maxtasksperchild=1)


def build_corpus(output_dir, num_clips, *, seed, voice, rate, pitch, workers, sampling_rate=None):
    """Build (or complete) the corpus, at eSpeak's sampling rate or `sampling_rate`; returns the number of clips
    synthesized by this call."""
    output_dir = Path(output_dir).resolve()  # workers may not share our working directory
    for folder in ('wavs', 'timings'):
        (output_dir / folder).mkdir(parents=True, exist_ok=True)
    speaker = Speaker(espeak.find_backend(), voice, rate, pitch, sampling_rate)

    with worker_pool(workers) as pool:
        version, espeak_rate = pool.apply(probe_speaker, (speaker,))
        sampling_rate = sampling_rate or espeak_rate
        check_corpus_info(output_dir, {'backend': speaker.backend.name, 'version': version, 'voice': voice,
                                       'rate': rate, 'pitch': pitch, 'seed': seed, 'sampling_rate': sampling_rate})
        candidates = {clip_id(number): text_candidates(seed, number) for number in range(1, num_clips + 1)}
        texts = {}
        for identifier, clip_candidates in candidates.items():
            existing = existing_clip_text(output_dir, identifier, clip_candidates)
            if existing is not None:
                texts[identifier] = existing
        synthesized = synthesize_missing(pool, output_dir, candidates, texts, speaker)

    write_metadata(output_dir, dict(sorted(texts.items())))
    return synthesized


def parse_args(argv):
    parser = ArgumentParser(prog='python -m common.corpus.build',
                            description='Build the embedded eSpeak NG corpus (LJSpeech layout).')
    parser.add_argument('-o', '--output', required=True, type=Path, help='Corpus folder (wavs/, metadata.csv, ...)')
    parser.add_argument('-n', '--num-clips', type=int, default=300, help='Number of clips')
    parser.add_argument('--seed', type=int, default=1234, help='Seed of the sentences')
    parser.add_argument('--voice', default='en-us+f3', help='eSpeak NG voice and variant')
    parser.add_argument('--rate', type=int, default=165, help='Speaking rate in words per minute (80-450)')
    parser.add_argument('--pitch', type=int, default=50, help='Pitch (0-99)')
    parser.add_argument('--workers', type=int, default=2, help='Worker processes')
    parser.add_argument('--sampling-rate', type=positive_int, default=None,
                        help="Sampling rate of the WAVs and timings (default: eSpeak's own, 22050 Hz)")
    args = parser.parse_args(argv)
    if args.num_clips < 1:
        parser.error(f'--num-clips must be at least 1, got {args.num_clips}')
    if args.workers < 1:
        parser.error(f'--workers must be at least 1, got {args.workers}')
    if not 80 <= args.rate <= 450:
        parser.error(f'--rate must lie in 80-450 words per minute, got {args.rate}')
    if not 0 <= args.pitch <= 99:
        parser.error(f'--pitch must lie in 0-99, got {args.pitch}')
    return args


@command('python -m common.corpus.build', expected=(espeak.EspeakError,))
def main(argv=None):
    args = parse_args(argv)
    synthesized = build_corpus(args.output, args.num_clips, seed=args.seed, voice=args.voice, rate=args.rate,
                               pitch=args.pitch, workers=args.workers, sampling_rate=args.sampling_rate)
    print(f'{args.output}: {args.num_clips} clips ({synthesized} synthesized now)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
