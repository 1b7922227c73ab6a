"""Preprocess a corpus for training: mels, per-symbol durations and pitch, pitch statistics and filelists.

    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --extract-mels --extract-durations --extract-pitch [--durations-from espeak|tacotron2 --tacotron2-checkpoint C]
    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --extract-mels --extract-frame-pitch          # FastPitch 1.1: it learns its own durations
    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --teacher-mels-from fastpitch|tacotron2 --fastpitch-checkpoint C   # mels for HiFi-GAN --fine-tuning

F holds `wavs/ID.wav|text[|speaker]` lines, paths relative to D. A clip's outputs are named by its path below the
top folder (clip_key: `wavs/ID.wav` -> ID, `wavs/a/ID.wav` -> a/ID). Per clip it writes
    D/mels/ID.pt         float32 (n_mel, frames), TacotronSTFT log-mel; frames = samples // hop + 1
    D/durations/ID.pt    int64 (symbols,), mel frames per symbol of text_to_sequence(text); they sum to frames
                         (fastpitch/durations.py: from eSpeak timings D/timings/ID.json, or from the attention of a
                         trained model, --durations-from tacotron2|fastpitch, aligned in this process in batches of
                         --batch-size clips of similar text lengths, on the GPU when there is one)
    D/pitch_char/ID.pt   float32 (symbols,), mean F0 in Hz over each symbol's voiced frames, 0 if none
                         (fastpitch/pitch.py; Praat's, as FastPitch 1.0's reference); needs the durations
    D/pitch/ID.pt        float32 (frames,), F0 in Hz per mel frame, 0 where unvoiced (FastPitch 1.1; pYIN's, as
                         1.1's reference); --pitch-method praat|pyin picks one estimator for both
and in each of those folders preprocessing.json, the parameters its files were made with ({flag: value}): a run
with other values stops, naming the folder and the flag, unless --overwrite (which redoes the files: this run's
clips', or the whole folder's where the parameters differ). Per filelist F with stem S
    D/pitch_char_stats__S.json   {"mean", "std"} in Hz over voiced symbols: FastPitch 1.0's --pitch-mean-std-file
    D/pitch_stats__S.json        the same over voiced frames: FastPitch 1.1's --pitch-mean-std-file
    next to F, once every clip has its files: the Tacotron 2 mel filelist (`mels/ID.pt|text`, for
        --load-mel-from-disk), the FastPitch 1.0 filelist (`mels/ID.pt|durations/ID.pt|pitch_char/ID.pt|text`)
        and the FastPitch 1.1 filelist (`mels/ID.pt|pitch/ID.pt|text`), named by replacing `audio_text` in S with
        `mel_text` / `mel_dur_pitch_text` / `mel_pitch_text` (ljs_audio_text_train_filelist.txt ->
        ljs_mel_text_train_filelist.txt, ljs_mel_dur_pitch_text_train_filelist.txt and
        ljs_mel_pitch_text_train_filelist.txt), or by appending `_mel` / `_mel_dur_pitch` / `_mel_pitch` to other
        stems
    D/filtered__S.tsv            line, clip and reason of each clip the filters left out (--min-duration,
                                 --max-duration, --max-text-length; header only when none)
    D/skipped__S.txt             with --skip-bad: the lines left out and why

--teacher-mels-from NAME runs a trained mel generator (--NAME-checkpoint) over its own training data, teacher-forced
(Tacotron 2 on the mel filelist, FastPitch 1.0 with the saved durations and pitch, 1.1 with its own aligner and the
per-frame pitch: each reads the derived filelist it trains on, so that one must exist or be made in the same run),
in batches of --batch-size on the GPU when there is one, with the data flags the checkpoint was trained with (its
train_setup; without one, the model's flag defaults and this script's audio and text flags), and writes
    D/mels_NAME/ID.pt    float32 (n_mel, frames), the generator's mel for the clip, the frames of D/mels/ID.pt
and next to F the HiFi-GAN --fine-tuning filelist (`wavs/ID.wav|mels_NAME/ID.pt|text`), named by replacing
`audio_text` with `audio_NAME_mel_text` (ljs_audio_fastpitch_mel_text_train_filelist.txt) or by appending
`_audio_NAME_mel`. Batches are formed from every clip of the filelists, whatever exists, so a resumed run computes
the same batches. Padding to a batch's longest clip changes a clip's mel a little, as it does in training;
--batch-size 1 gives each clip's mel as the model makes it for that clip alone.

Every line is checked before any work starts (files, sample rate, channels, length, transcript, timings, saved
durations); a problem stops the run with `filelist:line: problem`, or with --skip-bad the line is left out of the
outputs and listed in the report. A clip at another rate than --sampling-rate is such a problem unless --resample
(soxr); --trim-top-db DB trims its leading and trailing silence before the mels and pitch. Files that exist are
kept (a rerun resumes); each file is written under a temporary name and renamed, so an interrupted run leaves no
partial file behind; a worker process that dies stops the run with an error.
"""
import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Optional

import torch
from tqdm import tqdm

import models
from common import model_loading
from common.audio import AudioError, load_wav, trim_silence, wav_info
from common.checkpoint import load_checkpoint
from common.cli import ArgumentParser, command, non_negative_float, positive_float, positive_int
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import load_tensor, torch_save_atomic, write_text_atomic
from common.filelist import (FilelistEntry, FilelistError, entry_text_ids, load_entry_tensor, read_filelist,
                             write_filelist)
from common.model_spec import ModelSpec
from common.sampling_rates import check_trained_sampling_rates
from common.stft import TacotronSTFT, mel_from_audio
from common.text import text_to_sequence
from common.text_batching import pad_sequences
from fastpitch.durations import durations_from_alignment, durations_from_espeak, mel_frame_count
from fastpitch.pitch import (PITCH_FMAX, PITCH_FMIN, PITCH_METHODS, PRAAT, PYIN, char_pitch, frame_pitch,
                             pitch_stats, write_pitch_stats)

OUTPUT_KINDS = ('mels', 'durations', 'pitch_char', 'pitch')
# the filelists written beside each input filelist: {kind of filelist: the per-clip files of its rows}
DERIVED_FILELISTS = {'mel_text': ('mels',), 'mel_dur_pitch_text': ('mels', 'durations', 'pitch_char'),
                     'mel_pitch_text': ('mels', 'pitch')}
# the flag that writes each per-clip kind
EXTRACT_FLAGS = {'mels': '--extract-mels', 'durations': '--extract-durations', 'pitch_char': '--extract-pitch',
                 'pitch': '--extract-frame-pitch'}
# the pitch statistics written per filelist: {per-clip kind: statistics file prefix}
PITCH_STATS = {'pitch_char': 'pitch_char_stats', 'pitch': 'pitch_stats'}
# the pitch estimator of each pitch kind without --pitch-method: the reference's for the model that reads it
# (FastPitch 1.0's per-symbol pitch came from Praat, 1.1's per-frame pitch from pYIN)
DEFAULT_PITCH_METHODS = {'pitch_char': PRAAT, 'pitch': PYIN}
PARAMS_FILE = 'preprocessing.json'  # in each output folder: the parameters its files were made with
TIMINGS_DIR = 'timings'
ESPEAK = 'espeak'
DEFAULT_BATCH_SIZE = 16  # clips per batch of a teacher-forced model


class PrepareError(ValueError):
    """A problem that stops preprocessing; one line, naming the flag, file or filelist line."""


def aligning_specs():
    """{name: spec} of the models whose teacher-forced attention can give durations (--durations-from NAME)."""
    return {spec.cli_name: spec for spec in models.MODELS.values() if spec.teacher_forced_alignment is not None}


def teacher_specs():
    """{name: spec} of the generators whose teacher-forced mels can be written (--teacher-mels-from NAME)."""
    return {spec.cli_name: spec for spec in models.MODELS.values() if spec.teacher_forcing is not None}


@dataclass(frozen=True)
class Aligner:
    """A trained model whose teacher-forced attention gives each mel frame to its most attended symbol."""
    spec: ModelSpec
    model: torch.nn.Module

    def batch_durations(self, clips):
        """[(text ids (T,), mel (n_mel, F))] -> [frames per symbol] of each clip, from one padded batch on the
        model's device (text padded with the pad symbol, mels with zeros, as training pads them)."""
        device = next(self.model.parameters()).device
        text, text_lengths = pad_sequences([ids for ids, _ in clips])
        mel_lengths = torch.tensor([mel.size(1) for _, mel in clips])
        mels = torch.zeros(len(clips), clips[0][1].size(0), int(mel_lengths.max()))
        for item, (_, mel) in enumerate(clips):
            mels[item, :, :mel.size(1)] = mel
        with torch.no_grad():
            alignments = self.spec.teacher_forced_alignment(self.model, text.to(device), text_lengths.to(device),
                                                            mels.to(device), mel_lengths.to(device)).cpu()
        return [durations_from_alignment(alignment[:frames], symbols)
                for alignment, frames, symbols in zip(alignments, mel_lengths.tolist(), text_lengths.tolist())]

    def durations(self, ids, mel):
        """Frames per symbol of one clip, aligned alone."""
        return self.batch_durations([(ids, mel)])[0]


@dataclass(frozen=True)
class Settings:
    dataset_path: Path
    stft: dict
    text_cleaners: tuple
    extract_mels: bool
    extract_durations: bool
    extract_pitch: bool
    extract_frame_pitch: bool
    durations_from: str
    pitch_method: Optional[str]     # None: DEFAULT_PITCH_METHODS
    pitch_fmin: float
    pitch_fmax: float
    resample: bool
    trim_top_db: Optional[float]    # None: no trimming
    filters: 'Filters'
    overwrite: bool                 # redo the files this run writes, whatever exists

    def mel_stft(self):
        """The STFT that makes this corpus's mels."""
        return TacotronSTFT(**self.stft)

    def extracts(self, kind):
        """Whether this run writes the per-clip files of `kind` (one of OUTPUT_KINDS)."""
        return {'mels': self.extract_mels, 'durations': self.extract_durations, 'pitch_char': self.extract_pitch,
                'pitch': self.extract_frame_pitch}[kind]

    def method(self, kind):
        """The pitch estimator of a pitch kind ('pitch' or 'pitch_char')."""
        return self.pitch_method or DEFAULT_PITCH_METHODS[kind]

    def params(self, kind):
        """{flag: value} of what decides the files of `kind`: recorded in their folder, and a later run with other
        values must not mix its files with them."""
        audio = {'--sampling-rate': self.stft['sampling_rate'], '--trim-top-db': self.trim_top_db}
        if kind == 'mels':
            return {**audio, **{f'--{key.replace("_", "-")}': value for key, value in self.stft.items()}}
        frames = {**audio, '--hop-length': self.stft['hop_length']}
        durations = {**frames, '--durations-from': self.durations_from, '--text-cleaners': list(self.text_cleaners)}
        if kind == 'durations':
            return durations
        pitch = {**frames, '--pitch-method': self.method(kind), '--pitch-fmin': self.pitch_fmin,
                 '--pitch-fmax': self.pitch_fmax}
        if self.method(kind) == PYIN:
            pitch['--filter-length'] = self.stft['filter_length']
        return pitch if kind == 'pitch' else {**pitch, **durations}


@dataclass(frozen=True)
class Filters:
    """Clips left out of the outputs (with a line each in D/filtered__<stem>.tsv), not errors: their limits."""
    min_duration: float             # seconds, of the WAV as it is (before any trimming)
    max_duration: float
    max_text_length: Optional[int]  # symbols of the transcript; None: no limit

    def reason(self, seconds, n_symbols):
        """Why a clip of `seconds` and `n_symbols` is left out, or None to keep it."""
        if seconds < self.min_duration:
            return f'lasts {seconds:.2f} s, shorter than --min-duration {self.min_duration:g}'
        if seconds > self.max_duration:
            return f'lasts {seconds:.2f} s, longer than --max-duration {self.max_duration:g}'
        if self.max_text_length is not None and n_symbols > self.max_text_length:
            return f'has {n_symbols} symbols, more than --max-text-length {self.max_text_length}'
        return None


def settings_from_args(args):
    filters = Filters(args.min_duration, args.max_duration, args.max_text_length)
    return Settings(Path(args.dataset_path), stft_kwargs(args), tuple(args.text_cleaners), args.extract_mels,
                    args.extract_durations, args.extract_pitch, args.extract_frame_pitch, args.durations_from,
                    args.pitch_method, args.pitch_fmin, args.pitch_fmax, args.resample, args.trim_top_db, filters,
                    args.overwrite)


@dataclass(frozen=True)
class Clip:
    location: str   # filelist:line, for messages
    key: str        # its outputs' name (clip_key)
    wav: str        # relative to the dataset path
    text: str


def clip_key(path):
    """The name of a clip's outputs: its dataset-relative path below the top folder, without the suffix
    (`wavs/LJ001-0001.wav` -> `LJ001-0001`, `wavs/a/x.wav` -> `a/x`: mels/a/x.pt), so that clips of one name in two
    folders keep apart. A derived filelist's `mels/a/x.pt` has the same key."""
    parts = Path(path).parts
    return Path(*parts[1:]).with_suffix('').as_posix() if len(parts) > 1 else Path(path).stem


def output_path(dataset_path, kind, key):
    return Path(dataset_path) / kind / f'{key}.pt'


def timings_path(dataset_path, key):
    return Path(dataset_path) / TIMINGS_DIR / f'{key}.json'


def derived_filelist_path(filelist, kind):
    """The filelist beside `filelist` for a kind of DERIVED_FILELISTS (see the module docstring)."""
    filelist = Path(filelist)
    stem = filelist.stem
    stem = stem.replace('audio_text', kind) if 'audio_text' in stem else f'{stem}_{kind.removesuffix("_text")}'
    return filelist.with_name(stem + filelist.suffix)


def stats_path(dataset_path, filelist, kind='pitch_char'):
    """The pitch statistics of a filelist's clips, per symbol (kind 'pitch_char') or per frame ('pitch')."""
    return Path(dataset_path) / f'{PITCH_STATS[kind]}__{Path(filelist).stem}.json'


def report_path(dataset_path, filelist):
    return Path(dataset_path) / f'skipped__{Path(filelist).stem}.txt'


def filtered_report_path(dataset_path, filelist):
    return Path(dataset_path) / f'filtered__{Path(filelist).stem}.tsv'


# ---------------------------------------------------------------- checks before any work

def check_clip(entry, settings):
    """Why the filters leave the line out, or None to keep it; raise FilelistError (`filelist:line: problem`) for
    a line that preprocessing cannot use."""
    wav_path = Path(entry.paths[0])
    if wav_path.is_absolute() or '..' in wav_path.parts:
        raise entry.error(f'{wav_path}: must be a path inside the dataset folder (--dataset-path)')
    key = clip_key(wav_path)
    info = checked_wav_info(entry, settings.dataset_path / wav_path, settings)
    ids = entry_text_ids(entry, settings.text_cleaners).tolist()
    filtered = settings.filters.reason(info.frames / info.samplerate, len(ids))
    if filtered:
        return filtered
    same_samples = info.samplerate == settings.stft['sampling_rate'] and settings.trim_top_db is None
    n_frames = mel_frame_count(info.frames, settings.stft['hop_length'])
    durations_file = output_path(settings.dataset_path, 'durations', key)
    reused = durations_file.is_file() and not (settings.overwrite and settings.extract_durations)
    if reused and (settings.extract_durations or settings.extract_pitch):
        # a resampled or trimmed clip's frames are known only once it is read: char_pitch checks them then
        check_saved_durations(entry, durations_file, len(ids), n_frames if same_samples else None)
    elif settings.extract_pitch and not settings.extract_durations:
        raise entry.error(f'{durations_file}: no such file; pitch per symbol needs durations (--extract-durations)')
    elif settings.extract_durations and settings.durations_from == 'espeak':
        check_timings(entry, settings, key, ids, info.frames)
    return None


def checked_wav_info(entry, wav, settings):
    """soundfile's description of a mono WAV at the expected rate (or --resample) with samples for one STFT frame
    (header only)."""
    if not wav.is_file():
        raise entry.error(f'{wav}: no such WAV file')
    try:
        info = wav_info(wav)
    except AudioError as error:
        raise entry.error(str(error)) from None
    rate = settings.stft['sampling_rate']
    if info.samplerate != rate and not settings.resample:
        raise entry.error(f'{wav}: sampled at {info.samplerate} Hz, expected {rate} Hz (--sampling-rate; '
                          '--resample converts it)')
    if info.frames * rate / info.samplerate <= settings.stft['filter_length'] // 2:
        raise entry.error(f'{wav}: has {info.frames} samples, too short for one STFT frame')
    return info


def check_saved_durations(entry, path, n_symbols, n_frames):
    durations = load_entry_tensor(entry, path, 'durations')
    if durations.dim() != 1 or durations.numel() != n_symbols:
        raise entry.error(f'{path}: expected {n_symbols} durations (one per symbol), got {tuple(durations.shape)}')
    if n_frames is not None and int(durations.sum()) != n_frames:
        raise entry.error(f'{path}: durations sum to {int(durations.sum())} frames but the mel has {n_frames}')


def check_timings(entry, settings, key, ids, num_samples):
    path = timings_path(settings.dataset_path, key)
    try:
        timings = json.loads(path.read_text())
        spoken, rate, samples = timings['text'], timings['sampling_rate'], timings['num_samples']
    except FileNotFoundError:
        raise entry.error(f'{path}: no such eSpeak timings file (--durations-from espeak needs one per clip)') from None
    except (ValueError, KeyError, TypeError) as error:
        raise entry.error(f'{path}: not a timings file ({error!r})') from None
    if rate != settings.stft['sampling_rate'] or samples != num_samples:
        raise entry.error(f'{path}: describes {samples} samples at {rate} Hz, the WAV has {num_samples} at '
                          f'{settings.stft["sampling_rate"]} Hz')
    if text_to_sequence(spoken, settings.text_cleaners) != ids:
        raise entry.error(f'{path}: timings text {spoken!r} differs from the transcript')


def check_filelists(filelists, settings, skip_bad):
    """({filelist: [good entries]}, {filelist: [problems]}, {filelist: [(entry, why the filters left it out)]});
    without skip_bad the first problem is raised."""
    good, problems, filtered = {}, {}, {}
    for filelist in filelists:
        bad = problems.setdefault(filelist, [])
        entries = read_filelist(filelist, n_path_columns=1, on_error=bad.append if skip_bad else None)
        good[filelist], filtered[filelist] = [], []
        for entry in entries:
            try:
                reason = check_clip(entry, settings)
            except FilelistError as error:
                if not skip_bad:
                    raise
                bad.append(error)
                continue
            if reason:
                filtered[filelist].append((entry, reason))
            else:
                good[filelist].append(entry)
    return good, problems, filtered


def recorded_params(settings, kind):
    """The parameters recorded in the output folder of `kind`, or None for a new folder."""
    path = settings.dataset_path / kind / PARAMS_FILE
    if not path.is_file():
        return None
    try:
        recorded = json.loads(path.read_text())
    except ValueError as error:
        raise PrepareError(f'{path}: not a parameters file ({error}); delete it if the folder is yours') from None
    if not isinstance(recorded, dict):
        raise PrepareError(f'{path}: not a parameters file (expected a JSON object)')
    return recorded


def differing_param(recorded, params):
    """The first (flag, recorded value, value) on which two sets of parameters differ, or None."""
    return next(((flag, recorded[flag], value) for flag, value in params.items()
                 if flag in recorded and recorded[flag] != value), None)


def check_output_params(settings, kinds, overwrite):
    """Each output folder of `kinds` (those this run writes or reads) is new or was made with this run's parameters;
    with `overwrite`, a folder this run writes may differ (its files are redone)."""
    for kind in kinds:
        recorded = recorded_params(settings, kind)
        differs = recorded and differing_param(recorded, settings.params(kind))
        if differs and not (overwrite and settings.extracts(kind)):
            flag, before, now = differs
            redo = ', or --overwrite to redo them' if settings.extracts(kind) else ''
            raise PrepareError(f'{settings.dataset_path / kind}: made with {flag} {before}, this run has {now}: give '
                               f'the same {flag}, another --dataset-path{redo}')


def start_outputs(settings, keys, overwrite):
    """Record the parameters in the folder of each kind this run writes. With `overwrite` the clips' files made
    before are removed first, and the whole folder's where they were made with other parameters: a folder never
    holds files of two sets of parameters."""
    for kind in OUTPUT_KINDS:
        if not settings.extracts(kind):
            continue
        folder = settings.dataset_path / kind
        if overwrite:
            recorded = recorded_params(settings, kind)
            stale = (folder.rglob('*.pt') if recorded and differing_param(recorded, settings.params(kind))
                     else (output_path(settings.dataset_path, kind, key) for key in keys))
            for path in list(stale):
                path.unlink(missing_ok=True)
        write_text_atomic(folder / PARAMS_FILE, json.dumps(settings.params(kind), indent=1) + '\n')


# ---------------------------------------------------------------- work per clip (in worker processes)

_worker = {}  # settings, stft and the kinds of output to write, set before the pool forks


class ClipData:
    """A clip's audio, mel and pitch tracks, each read or computed at most once."""

    def __init__(self, clip, settings, stft):
        self.clip, self.settings, self.stft = clip, settings, stft
        self.pitch_tracks = {}

    @cached_property
    def audio(self):
        settings = self.settings
        audio, _ = load_wav(settings.dataset_path / self.clip.wav, settings.stft['sampling_rate'], settings.resample)
        if settings.trim_top_db is not None:
            audio = trim_silence(audio, settings.trim_top_db, settings.stft['filter_length'],
                                 settings.stft['hop_length'])
        return audio

    @cached_property
    def mel(self):
        saved = output_path(self.settings.dataset_path, 'mels', self.clip.key)
        if saved.is_file():
            return load_tensor(saved, 'mel')
        return mel_from_audio(self.stft, self.audio)

    def frame_pitch(self, kind):
        """F0 per mel frame (Hz) by the estimator of a pitch kind: the estimate is the slow step, so per-frame and
        per-symbol pitch of one method share one run (or the saved per-frame file)."""
        settings = self.settings
        method = settings.method(kind)
        if method not in self.pitch_tracks:
            saved = output_path(settings.dataset_path, 'pitch', self.clip.key)
            if settings.method('pitch') == method and saved.is_file():
                self.pitch_tracks[method] = load_tensor(saved, 'pitch')
            else:
                stft = settings.stft
                self.pitch_tracks[method] = frame_pitch(self.audio, stft['sampling_rate'], stft['filter_length'],
                                                        stft['hop_length'], settings.pitch_fmin, settings.pitch_fmax,
                                                        method)
        return self.pitch_tracks[method]


def clip_durations(data, settings):
    """Frames per symbol from the clip's eSpeak timings (check_timings has matched them to the WAV and the
    transcript); durations from a model come from aligned_durations instead."""
    timings = json.loads(timings_path(settings.dataset_path, data.clip.key).read_text())
    hop_length = settings.stft['hop_length']
    return durations_from_espeak(timings, settings.text_cleaners, mel_frame_count(timings['num_samples'], hop_length),
                                 hop_length)


def clip_pitch(data, settings):
    durations = load_tensor(output_path(settings.dataset_path, 'durations', data.clip.key), 'durations')
    return char_pitch(data.frame_pitch('pitch_char'), durations)


def process_clip(clip):
    """Write the clip's missing outputs -> (clip, problem or None)."""
    settings, stft = _worker['settings'], _worker['stft']
    data = ClipData(clip, settings, stft)
    steps = (('mels', lambda: data.mel),
             ('durations', lambda: clip_durations(data, settings)),
             ('pitch', lambda: data.frame_pitch('pitch')),
             ('pitch_char', lambda: clip_pitch(data, settings)))
    try:
        for kind, make in steps:
            path = output_path(settings.dataset_path, kind, clip.key)
            if settings.extracts(kind) and kind in _worker['kinds'] and not path.is_file():
                torch_save_atomic(make(), path)
    except ValueError as error:  # AudioError, TimingsError, PitchError, bad saved tensors: a problem of this clip
        return clip, str(error)
    return clip, None


def one_torch_thread():
    """Per-clip work is a chain of small operations (a batch of one): extra intra-op threads only add overhead and
    oversubscribe the cores that --workers already uses. Returns the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    return previous


def processed_clips(clips, workers):
    """process_clip's results, as they come: here, or in a pool of `workers` forked processes; a worker that dies
    (killed, out of memory) stops the run with an error instead of leaving its clip unfinished forever."""
    if workers == 1:
        threads = one_torch_thread()
        try:
            yield from map(process_clip, clips)
        finally:
            torch.set_num_threads(threads)
        return
    with ProcessPoolExecutor(workers, multiprocessing.get_context('fork'), initializer=one_torch_thread) as pool:
        futures = [pool.submit(process_clip, clip) for clip in clips]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool:
            raise PrepareError('a preprocessing worker process died (killed, or out of memory?): rerun to resume, '
                               'with fewer --workers if memory is short') from None
        finally:
            for future in futures:
                future.cancel()


def run_clips(clips, workers, skip_bad):
    """Process clips (in a pool of `workers` forked processes if workers > 1) -> {clip key: problem}."""
    problems = {}
    with tqdm(total=len(clips), unit='clip', desc='preprocessing', file=sys.stderr) as progress:
        for clip, problem in processed_clips(clips, workers):
            progress.update()
            if problem is not None:
                if not skip_bad:
                    raise PrepareError(f'{clip.location}: {problem}')
                problems[clip.key] = problem
    return problems


def compile_pitch_tracker(settings):
    """Run pYIN once on a short silence here: on a fresh install librosa's numba code compiles on first use, and
    forked workers compiling it all at once have crashed."""
    stft = settings.stft
    frame_pitch(torch.zeros(stft['filter_length'] * 4), stft['sampling_rate'], stft['filter_length'],
                stft['hop_length'], settings.pitch_fmin, settings.pitch_fmax, PYIN)


def run_phases(clips, settings, aligner, args):
    """All outputs of every clip in one pass of the worker pool; but durations from a model are made in this
    process, in batches (aligned_durations), between a pass for the mels and one for the pitch, which reads them.
    -> {clip key: problem}."""
    if aligner is None:
        _worker['kinds'] = OUTPUT_KINDS
        return run_clips(clips, args.workers, args.skip_bad)
    _worker['kinds'] = ('mels',)
    failed = run_clips(clips, args.workers, args.skip_bad)
    failed.update(aligned_durations([clip for clip in clips if clip.key not in failed], settings, aligner,
                                    args.batch_size, args.skip_bad))
    _worker['kinds'] = ('pitch', 'pitch_char')
    failed.update(run_clips([clip for clip in clips if clip.key not in failed], args.workers, args.skip_bad))
    return failed


def aligned_durations(clips, settings, aligner, batch_size, skip_bad):
    """Write the durations the aligner gives the clips that lack them, in batches of batch_size clips of similar
    text lengths, with all of this process's threads or on the GPU (a default-size Tacotron 2 one clip at a time
    on the CPU takes hours over LJSpeech; forked workers cannot use CUDA). The batches are formed from every clip,
    whatever exists, so that a resumed run computes the same ones. -> {clip key: problem}."""
    ids = {clip.key: torch.tensor(text_to_sequence(clip.text, settings.text_cleaners)) for clip in clips}
    by_length = sorted(clips, key=lambda clip: len(ids[clip.key]))
    batches = [by_length[start:start + batch_size] for start in range(0, len(by_length), batch_size)]
    stft, problems = settings.mel_stft(), {}

    def missing(clip):
        return not output_path(settings.dataset_path, 'durations', clip.key).is_file()

    for batch in tqdm([batch for batch in batches if any(map(missing, batch))], unit='batch',
                      desc=f'{aligner.spec.name} durations', file=sys.stderr):
        loaded = []
        for clip in batch:
            try:
                loaded.append((clip, ClipData(clip, settings, stft).mel))
            except ValueError as error:  # AudioError, bad saved tensors: a problem of this clip
                if not skip_bad:
                    raise PrepareError(f'{clip.location}: {error}') from None
                problems[clip.key] = str(error)
        if not loaded:
            continue
        durations = aligner.batch_durations([(ids[clip.key], mel) for clip, mel in loaded])
        for (clip, _), found in zip(loaded, durations):
            if missing(clip):
                torch_save_atomic(found, output_path(settings.dataset_path, 'durations', clip.key))
    return problems


# ---------------------------------------------------------------- teacher-forced mels (a generator, in this process)

@dataclass(frozen=True)
class Teacher:
    """A trained generator whose teacher-forced mels a vocoder is fine-tuned on, with the flags it was trained with
    (None for a checkpoint that stores none, e.g. NVIDIA's)."""
    spec: ModelSpec
    model: torch.nn.Module
    train_setup: Optional[dict]

    @property
    def device(self):
        return next(self.model.parameters()).device

    @property
    def training_filelist(self):
        """The kind of derived filelist it trains on (a DERIVED_FILELISTS key)."""
        return self.spec.teacher_forcing.training_filelist(self.model)

    @property
    def output_kind(self):
        return f'mels_{self.spec.cli_name}'

    @property
    def fine_tuning_filelist(self):
        return f'audio_{self.spec.cli_name}_mel_text'


@dataclass(frozen=True)
class TeacherItem:
    entry: FilelistEntry  # the clip's line of the derived filelist
    dataset: object       # the generator's training dataset of that filelist
    index: int            # the line's item in it


def load_teacher(name, path, device, allow_pickle=False):
    spec = teacher_specs()[name]
    checkpoint = load_checkpoint(path, allow_pickle=allow_pickle)
    model, _ = models.model_from_checkpoint(spec.name, checkpoint, path)
    train_setup = checkpoint.get('train_setup') if isinstance(checkpoint, dict) else None
    return Teacher(spec, model_loading.ready_for_inference(spec, model, device), train_setup)


def check_teacher(teacher, args, settings):
    """Before any work: the generator makes this corpus's mels, and each filelist's derived filelist that it trains
    on exists or is made by this run."""
    name = teacher.spec.name
    if teacher.model.n_mel_channels != args.n_mel_channels:
        raise PrepareError(f'the {name} model makes {teacher.model.n_mel_channels} mel channels, '
                           f'--n-mel-channels is {args.n_mel_channels}')
    trained = teacher.train_setup or {}
    for key, value in settings.stft.items():
        if key in trained and trained[key] != value:
            raise PrepareError(f'the {name} checkpoint was trained on mels of --{key.replace("_", "-")} '
                               f'{trained[key]}, this corpus\'s have {value}')
    kinds = DERIVED_FILELISTS[teacher.training_filelist]
    if all(settings.extracts(kind) for kind in kinds):
        return
    for filelist in args.wav_text_filelist:
        path = derived_filelist_path(filelist, teacher.training_filelist)
        if not path.is_file():
            flags = ' '.join(EXTRACT_FLAGS[kind] for kind in kinds)
            raise PrepareError(f'{path}: no such filelist, and the {name} checkpoint trains on it: run '
                               f'prepare_dataset.py {flags} on {filelist} first')


def teacher_data_args(teacher, args):
    """The flags the generator's get_dataset and collate read: its flag defaults, under this script's audio and text
    flags, under those it was trained with; this corpus's folder; then its spec's settings for its filelist."""
    parser = add_text_args(add_audio_args(argparse.ArgumentParser(add_help=False)))
    here = {key: getattr(args, key) for key in vars(parser.parse_args([]))}
    defaults = vars(teacher.spec.add_model_args(parser).parse_args([]))
    trained = {key: value for key, value in (teacher.train_setup or {}).items() if key in defaults}
    data_args = argparse.Namespace(**{**defaults, **here, **trained, 'dataset_path': args.dataset_path})
    return teacher.spec.teacher_forcing.data_args(teacher.model, data_args)


def teacher_items(teacher, data_args, good, skip_bad, problems):
    """{clip id: TeacherItem} of the filelists' clips, read through the generator's own training data on the
    derived filelists; a clip missing from its derived filelist (its files were never made) stops the run, or with
    skip_bad goes to `problems`."""
    kind = teacher.training_filelist
    items = {}
    for filelist, entries in good.items():
        path = derived_filelist_path(filelist, kind)
        dataset = teacher.spec.get_dataset(data_args, path)
        lines = read_filelist(path, n_path_columns=len(DERIVED_FILELISTS[kind]))
        # the dataset's items are its lines
        indices = {clip_key(line.paths[0]): index for index, line in enumerate(lines)}
        for entry in entries:
            if clip_key(entry.paths[0]) not in indices:
                flags = ' '.join(EXTRACT_FLAGS[k] for k in DERIVED_FILELISTS[kind])
                problem = f'not in {path}: run prepare_dataset.py {flags} for it first'
                if not skip_bad:
                    raise entry.error(problem)
                problems[clip_key(entry.paths[0])] = problem
            elif clip_key(entry.paths[0]) not in items:
                index = indices[clip_key(entry.paths[0])]
                items[clip_key(entry.paths[0])] = TeacherItem(lines[index], dataset, index)
    return items


def batches_of_distinct_lengths(lengths, batch_size):
    """The clips of {clip id: mel frames} in batches of at most batch_size, similar lengths together, no two of one
    length: collating may reorder a batch (by text length), and the frame counts tell its outputs apart."""
    batches, open_batches = [], []
    for clip_id in sorted(lengths, key=lengths.get):  # ascending: a batch's last clip is its longest
        batch = next((batch for batch in open_batches if lengths[batch[-1]] != lengths[clip_id]), None)
        if batch is None:
            batch = []
            open_batches.append(batch)
        batch.append(clip_id)
        if len(batch) == batch_size:
            open_batches.remove(batch)
            batches.append(batch)
    return batches + open_batches


def load_items(clip_ids, items, skip_bad, problems):
    """[(clip id, dataset item)]; each item is drawn under one fixed seed, so that a pipeline that draws (1.1's
    --p-arpabet below 1) gives a clip the same item in every run."""
    loaded = []
    with torch.random.fork_rng(devices=[]):
        for clip_id in clip_ids:
            torch.manual_seed(0)
            item = items[clip_id]
            try:
                loaded.append((clip_id, item.dataset[item.index]))
            except ValueError as error:  # FilelistError, TensorFileError: a problem of this clip
                if not skip_bad:
                    raise
                problems[clip_id] = str(error)
    return loaded


def teacher_forced_batch(teacher, collate, loaded, lengths):
    """{clip id: float32 (n_mel, frames) on the CPU} of one batch, matched to its clips by frame count."""
    x, _, _ = teacher.spec.batch_to_device(collate([item for _, item in loaded]), teacher.device)
    with torch.no_grad():
        mels = teacher.spec.teacher_forcing.mels(teacher.model, x)
    by_length = {mel.size(1): mel for mel in mels}
    expected = sorted(lengths[clip_id] for clip_id, _ in loaded)
    if sorted(mel.size(1) for mel in mels) != expected:
        raise PrepareError(f'{teacher.spec.name}: teacher-forced mels of {sorted(by_length)} frames for recorded '
                           f'mels of {expected}')
    # a clone owns just its frames: torch.save of a view would store the whole batch
    return {clip_id: by_length[lengths[clip_id]].to('cpu', torch.float32).clone(memory_format=torch.contiguous_format)
            for clip_id, _ in loaded}


def write_teacher_mels(teacher, args, good):
    """Write D/mels_NAME/ID.pt of every clip of the filelists that lacks it -> {clip id: problem} (with --skip-bad;
    otherwise the first problem stops the run). The batches are formed from every clip, so a resumed run computes
    each missing file in the batch an uninterrupted one would have."""
    problems = {}
    data_args = teacher_data_args(teacher, args)
    items = teacher_items(teacher, data_args, good, args.skip_bad, problems)

    def missing(clip_id):
        return not output_path(args.dataset_path, teacher.output_kind, clip_id).is_file()
    if not any(map(missing, items)):
        return problems
    lengths = {}
    for clip_id, item in items.items():
        try:
            lengths[clip_id] = load_entry_tensor(item.entry, Path(args.dataset_path) / item.entry.paths[0],
                                                 'mel').size(1)
        except FilelistError as error:
            if not args.skip_bad:
                raise
            problems[clip_id] = str(error)
    batches = [batch for batch in batches_of_distinct_lengths(lengths, args.batch_size) if any(map(missing, batch))]
    collate = teacher.spec.get_collate_fn(data_args)
    for batch in tqdm(batches, unit='batch', desc=f'{teacher.spec.name} mels', file=sys.stderr):
        loaded = load_items(batch, items, args.skip_bad, problems)
        if loaded:
            for clip_id, mel in teacher_forced_batch(teacher, collate, loaded, lengths).items():
                if missing(clip_id):
                    torch_save_atomic(mel, output_path(args.dataset_path, teacher.output_kind, clip_id))
    return problems


def write_fine_tuning_filelist(teacher, filelist, entries, dataset_path):
    """HiFi-GAN's --fine-tuning filelist (wavs/ID.wav|mels_NAME/ID.pt|text) beside `filelist`, when every entry has
    its mel -> its path, or None."""
    kind = teacher.output_kind
    if not entries or not all(output_path(dataset_path, kind, clip_key(entry.paths[0])).is_file() for entry in entries):
        return None
    path = derived_filelist_path(filelist, teacher.fine_tuning_filelist)
    write_filelist(path, [[entry.paths[0], f'{kind}/{clip_key(entry.paths[0])}.pt', entry.text]
                          + ([] if entry.speaker is None else [entry.speaker]) for entry in entries])
    return path


# ---------------------------------------------------------------- outputs per filelist

def write_outputs(filelist, entries, settings):
    """Pitch statistics and the derived filelists of the entries whose files all exist."""
    def has(kind, entry):
        return output_path(settings.dataset_path, kind, clip_key(entry.paths[0])).is_file()

    def row(kinds, entry):
        paths = [f'{kind}/{clip_key(entry.paths[0])}.pt' for kind in kinds]
        return paths + [entry.text] + ([] if entry.speaker is None else [entry.speaker])

    written = []
    for kind, wanted in (('pitch_char', settings.extract_pitch), ('pitch', settings.extract_frame_pitch)):
        if wanted and entries:
            pitches = [load_tensor(output_path(settings.dataset_path, kind, clip_key(entry.paths[0])), 'pitch')
                       for entry in entries]
            write_pitch_stats(stats_path(settings.dataset_path, filelist, kind), pitch_stats(pitches))
            written.append(stats_path(settings.dataset_path, filelist, kind))
    for kind, kinds in DERIVED_FILELISTS.items():
        if entries and all(has(k, entry) for entry in entries for k in kinds):
            path = derived_filelist_path(filelist, kind)
            write_filelist(path, [row(kinds, entry) for entry in entries])
            written.append(path)
    return written


def write_report(path, problems):
    write_text_atomic(path, ''.join(f'{problem}\n' for problem in problems))


def write_filtered_report(path, filtered):
    """D/filtered__<stem>.tsv: a header, then line, clip and reason of each clip the filters left out."""
    rows = [('line', 'clip', 'reason')] + [(entry.line_number, entry.paths[0], reason) for entry, reason in filtered]
    write_text_atomic(path, ''.join('\t'.join(map(str, row)) + '\n' for row in rows))


def extract(good, settings, aligner, args):
    """Write the per-clip outputs of every good entry -> {clip key: problem} of the clips left out (--skip-bad)."""
    clips = {}
    for entries in good.values():
        for entry in entries:
            key = clip_key(entry.paths[0])
            clips.setdefault(key, Clip(entry.location, key, entry.paths[0], entry.text))
    start_outputs(settings, clips, args.overwrite)
    _worker.update(settings=settings, stft=settings.mel_stft())
    pitch_kinds = [kind for kind in DEFAULT_PITCH_METHODS if settings.extracts(kind)]
    if any(settings.method(kind) == PYIN for kind in pitch_kinds):
        compile_pitch_tracker(settings)
    return run_phases(list(clips.values()), settings, aligner, args)


def kinds_used(settings, aligner):
    """The per-clip kinds this run writes or reads."""
    written = [kind for kind in OUTPUT_KINDS if settings.extracts(kind)]
    read = ['mels'] * (aligner is not None) + ['durations'] * settings.extract_pitch
    if settings.extract_pitch and settings.method('pitch_char') == settings.method('pitch'):
        read.append('pitch')
    return list(dict.fromkeys(written + read))


def prepare(args, aligner=None, teacher=None):
    """Run the whole preprocessing for parsed flags; `aligner` gives the durations unless they come from eSpeak,
    `teacher` the teacher-forced mels (the CLI loads both from --NAME-checkpoint). Returns the paths of the files
    written per filelist."""
    settings = settings_from_args(args)
    settings.mel_stft()  # a mel range the sampling rate cannot give is the flags' error, before any clip is read
    if args.extract_durations and args.durations_from != ESPEAK and aligner is None:
        raise PrepareError(f'--durations-from {args.durations_from} needs a trained model '
                           f'(--{args.durations_from}-checkpoint)')
    if aligner is not None and aligner.model.n_mel_channels != args.n_mel_channels:
        raise PrepareError(f'the {aligner.spec.name} model takes {aligner.model.n_mel_channels} mel channels, '
                           f'--n-mel-channels is {args.n_mel_channels}')
    if args.teacher_mels_from and teacher is None:
        raise PrepareError(f'--teacher-mels-from {args.teacher_mels_from} needs a trained model '
                           f'(--{args.teacher_mels_from}-checkpoint)')
    if teacher is not None:
        check_teacher(teacher, args, settings)
    check_output_params(settings, kinds_used(settings, aligner), args.overwrite)
    good, problems, filtered = check_filelists(args.wav_text_filelist, settings, args.skip_bad)

    extracting = any(settings.extracts(kind) for kind in OUTPUT_KINDS)
    failed = extract(good, settings, aligner, args) if extracting else {}

    def kept(entries):
        return [entry for entry in entries if clip_key(entry.paths[0]) not in failed]
    written = {filelist: write_outputs(filelist, kept(entries), settings) if extracting else []
               for filelist, entries in good.items()}
    for filelist, left_out in filtered.items():  # written even when empty: no report of an earlier run stays
        write_filtered_report(filtered_report_path(settings.dataset_path, filelist), left_out)
        written[filelist].append(filtered_report_path(settings.dataset_path, filelist))
    if teacher is not None:
        # after the outputs: the derived filelists it reads may be this run's
        kept_entries = {filelist: kept(entries) for filelist, entries in good.items()}
        failed.update(write_teacher_mels(teacher, args, kept_entries))
        for filelist, entries in good.items():
            path = write_fine_tuning_filelist(teacher, filelist, kept(entries), args.dataset_path)
            written[filelist] += [path] if path else []
    if args.skip_bad:
        for filelist, entries in good.items():
            skipped = [(error.line_number, str(error)) for error in problems[filelist]]
            skipped += [(entry.line_number, f'{entry.location}: {failed[clip_key(entry.paths[0])]}')
                        for entry in entries if clip_key(entry.paths[0]) in failed]
            report = report_path(settings.dataset_path, filelist)
            write_report(report, [message for _, message in sorted(skipped)])
            written[filelist].append(report)
    return written


def aligner_checkpoint(args):
    return getattr(args, f'{args.durations_from}_checkpoint')


def teacher_checkpoint(args):
    return getattr(args, f'{args.teacher_mels_from}_checkpoint')


def parse_args(argv=None):
    parser = ArgumentParser(prog='prepare_dataset.py',
                            description='Preprocess a corpus: mels, durations, pitch, filelists.',
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('-d', '--dataset-path', required=True, help='Corpus folder; filelist paths are relative to it')
    parser.add_argument('--wav-text-filelist', required=True, nargs='+', help='Filelists of wavs/ID.wav|text lines')
    parser.add_argument('--extract-mels', action='store_true', help='Write mels/ID.pt')
    parser.add_argument('--extract-durations', action='store_true', help='Write durations/ID.pt')
    parser.add_argument('--extract-pitch', action='store_true',
                        help='Write pitch_char/ID.pt and their stats (per symbol: FastPitch 1.0)')
    parser.add_argument('--extract-frame-pitch', action='store_true',
                        help='Write pitch/ID.pt and their stats (per mel frame: FastPitch 1.1)')
    aligners = aligning_specs()
    parser.add_argument('--durations-from', choices=(ESPEAK, *aligners), default=ESPEAK,
                        help='eSpeak timings (timings/ID.json) or the attention of a trained model')
    teachers = teacher_specs()
    parser.add_argument('--teacher-mels-from', choices=tuple(teachers), default=None,
                        help='Write the teacher-forced mels of this trained generator (mels_NAME/ID.pt) and the '
                             'HiFi-GAN --fine-tuning filelists (*_audio_NAME_mel_text*)')
    parser.add_argument('--batch-size', type=positive_int, default=DEFAULT_BATCH_SIZE,
                        help='Clips per batch of the models of --teacher-mels-from and --durations-from (1: each '
                             'clip without padding)')
    for name, spec in {**aligners, **teachers}.items():
        uses = [f'{flag} {name}' for flag, specs in (('--durations-from', aligners), ('--teacher-mels-from', teachers))
                if name in specs]
        parser.add_argument(f'--{name}-checkpoint', help=f'{spec.name} checkpoint for {" or ".join(uses)}')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='Let the checkpoint unpickle Python objects (pickled checkpoints of the original NVIDIA '
                             'repositories); trusted files only')
    parser.add_argument('--pitch-method', choices=PITCH_METHODS, default=None,
                        help='F0 estimator of every pitch output (default: each model\'s reference, Praat for the '
                             'per-symbol pitch of FastPitch 1.0, pYIN for the per-frame pitch of 1.1)')
    parser.add_argument('--pitch-fmin', type=positive_float, default=PITCH_FMIN, help='Lowest F0 searched (Hz)')
    parser.add_argument('--pitch-fmax', type=positive_float, default=PITCH_FMAX, help='Highest F0 searched (Hz)')
    filters = parser.add_argument_group('filters (clips left out, listed in D/filtered__<stem>.tsv: line, clip, '
                                        'reason; the defaults keep LJSpeech whole)')
    filters.add_argument('--min-duration', type=non_negative_float, default=0.0, metavar='S',
                         help='Shortest clip kept (seconds, as recorded)')
    filters.add_argument('--max-duration', '--max-duration-s', type=positive_float, default=20.0, metavar='S',
                         help='Longest clip kept (seconds, as recorded)')
    filters.add_argument('--max-text-length', type=positive_int, default=None, metavar='N',
                         help='Most symbols in a kept transcript (default: no limit)')
    parser.add_argument('--trim-top-db', type=positive_float, default=None, metavar='DB',
                        help='Trim leading and trailing audio quieter than DB below the clip\'s loudest frame '
                             '(librosa.effects.trim over STFT frames) before the mels and pitch; leading silence '
                             'keeps attention from aligning. Not with --durations-from espeak (the timings '
                             'describe the untrimmed clip)')
    parser.add_argument('--resample', action='store_true',
                        help='Resample clips at another rate than --sampling-rate (soxr) instead of stopping')
    parser.add_argument('--overwrite', action='store_true',
                        help='Redo the files this run writes, also those made with other parameters (otherwise '
                             'existing files are kept and folders made with other parameters are refused)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='Leave out bad lines instead of stopping; they are listed in D/skipped__<stem>.txt')
    parser.add_argument('--workers', type=int, default=2, help='Worker processes (1: work in this process)')
    add_audio_args(parser)
    add_text_args(parser)
    args = parser.parse_args(argv)
    if not (args.extract_mels or args.extract_durations or args.extract_pitch or args.extract_frame_pitch
            or args.teacher_mels_from):
        parser.error('nothing to do: give --extract-mels, --extract-durations, --extract-pitch, '
                     '--extract-frame-pitch and/or --teacher-mels-from')
    if args.extract_durations and args.durations_from != ESPEAK and not aligner_checkpoint(args):
        parser.error(f'--durations-from {args.durations_from} needs --{args.durations_from}-checkpoint')
    if args.teacher_mels_from and not teacher_checkpoint(args):
        parser.error(f'--teacher-mels-from {args.teacher_mels_from} needs --{args.teacher_mels_from}-checkpoint')
    if args.workers < 1:
        parser.error(f'--workers must be at least 1, got {args.workers}')
    if not 0 < args.pitch_fmin < args.pitch_fmax:
        parser.error(f'--pitch-fmin ({args.pitch_fmin}) must be positive and below --pitch-fmax ({args.pitch_fmax})')
    if args.min_duration >= args.max_duration:
        parser.error(f'--min-duration ({args.min_duration:g}) must be below --max-duration ({args.max_duration:g})')
    if args.trim_top_db is not None and args.extract_durations and args.durations_from == ESPEAK:
        parser.error('--trim-top-db with --durations-from espeak: the eSpeak timings describe the untrimmed clips')
    return args


@command('prepare_dataset.py')
def main(argv=None):
    args = parse_args(argv)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    aligner = teacher = None
    if args.extract_durations and args.durations_from != ESPEAK:
        check_trained_sampling_rates({f'--{args.durations_from}-checkpoint': aligner_checkpoint(args)},
                                     args.sampling_rate)
        spec = aligning_specs()[args.durations_from]
        model = models.load_model_from_checkpoint(spec.name, aligner_checkpoint(args), device,
                                                  allow_pickle=args.allow_pickle)
        aligner = Aligner(spec, model)
    if args.teacher_mels_from:
        teacher = load_teacher(args.teacher_mels_from, teacher_checkpoint(args), device, args.allow_pickle)
    written = prepare(args, aligner, teacher)
    for filelist, paths in written.items():
        print(f'{filelist}: wrote ' + (', '.join(map(str, paths)) or 'per-clip files only'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
