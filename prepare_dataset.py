"""Preprocess a corpus for training: mels, per-symbol durations and pitch, pitch statistics and filelists.

    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --extract-mels --extract-durations --extract-pitch [--durations-from espeak|tacotron2 --tacotron2-checkpoint C]
    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --extract-mels --extract-frame-pitch          # FastPitch 1.1: it learns its own durations
    python prepare_dataset.py --dataset-path D --wav-text-filelist F [F ...] \\
        --teacher-mels-from fastpitch|tacotron2 --fastpitch-checkpoint C   # mels for HiFi-GAN --fine-tuning

F holds `wavs/ID.wav|text[|speaker]` lines, paths relative to D. Per clip it writes
    D/mels/ID.pt         float32 (n_mel, frames), TacotronSTFT log-mel; frames = samples // hop + 1
    D/durations/ID.pt    int64 (symbols,), mel frames per symbol of text_to_sequence(text); they sum to frames
                         (fastpitch/durations.py: from eSpeak timings D/timings/ID.json or Tacotron 2 attention)
    D/pitch_char/ID.pt   float32 (symbols,), mean F0 in Hz over each symbol's voiced frames, 0 if none
                         (fastpitch/pitch.py); needs the durations
    D/pitch/ID.pt        float32 (frames,), F0 in Hz per mel frame, 0 where unvoiced (FastPitch 1.1)
and per filelist F with stem S
    D/pitch_char_stats__S.json   {"mean", "std"} in Hz over voiced symbols: FastPitch 1.0's --pitch-mean-std-file
    D/pitch_stats__S.json        the same over voiced frames: FastPitch 1.1's --pitch-mean-std-file
    next to F, once every clip has its files: the Tacotron 2 mel filelist (`mels/ID.pt|text`, for
        --load-mel-from-disk), the FastPitch 1.0 filelist (`mels/ID.pt|durations/ID.pt|pitch_char/ID.pt|text`)
        and the FastPitch 1.1 filelist (`mels/ID.pt|pitch/ID.pt|text`), named by replacing `audio_text` in S with
        `mel_text` / `mel_dur_pitch_text` / `mel_pitch_text` (ljs_audio_text_train_filelist.txt ->
        ljs_mel_text_train_filelist.txt, ljs_mel_dur_pitch_text_train_filelist.txt and
        ljs_mel_pitch_text_train_filelist.txt), or by appending `_mel` / `_mel_dur_pitch` / `_mel_pitch` to other
        stems
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
outputs and listed in the report. Files that exist are kept (a rerun resumes); each file is written under a
temporary name and renamed, so an interrupted run leaves no partial file behind.
"""
import argparse
import json
import multiprocessing
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Optional

import soundfile as sf
import torch
from tqdm import tqdm

import models
from common import model_loading
from common.audio import load_wav
from common.checkpoint import load_checkpoint
from common.cli import ArgumentParser, positive_int
from common.data_args import add_audio_args, add_text_args, stft_kwargs
from common.fileio import load_tensor, torch_save_atomic, write_text_atomic
from common.filelist import (FilelistEntry, FilelistError, entry_text_ids, load_entry_tensor, read_filelist,
                             write_filelist)
from common.model_spec import ModelSpec
from common.stft import TacotronSTFT, mel_from_audio
from common.text import text_to_sequence
from fastpitch.durations import durations_from_alignment, durations_from_espeak, mel_frame_count
from fastpitch.pitch import PITCH_FMAX, PITCH_FMIN, char_pitch, frame_pitch, pitch_stats, write_pitch_stats

OUTPUT_KINDS = ('mels', 'durations', 'pitch_char', 'pitch')
# the filelists written beside each input filelist: {kind of filelist: the per-clip files of its rows}
DERIVED_FILELISTS = {'mel_text': ('mels',), 'mel_dur_pitch_text': ('mels', 'durations', 'pitch_char'),
                     'mel_pitch_text': ('mels', 'pitch')}
# the flag that writes each per-clip kind
EXTRACT_FLAGS = {'mels': '--extract-mels', 'durations': '--extract-durations', 'pitch_char': '--extract-pitch',
                 'pitch': '--extract-frame-pitch'}
# the pitch statistics written per filelist: {per-clip kind: statistics file prefix}
PITCH_STATS = {'pitch_char': 'pitch_char_stats', 'pitch': 'pitch_stats'}
TIMINGS_DIR = 'timings'
ESPEAK = 'espeak'


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

    @property
    def on_gpu(self):
        return next(self.model.parameters()).is_cuda

    def durations(self, ids, mel):
        device = next(self.model.parameters()).device
        alignment = self.spec.teacher_forced_alignment(self.model, ids.to(device), mel.to(device))
        return durations_from_alignment(alignment.cpu(), len(ids))


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
    pitch_fmin: float
    pitch_fmax: float
    max_duration_s: float

    def mel_stft(self):
        """The STFT that makes this corpus's mels."""
        return TacotronSTFT(**self.stft)

    def extracts(self, kind):
        """Whether this run writes the per-clip files of `kind` (one of OUTPUT_KINDS)."""
        return {'mels': self.extract_mels, 'durations': self.extract_durations, 'pitch_char': self.extract_pitch,
                'pitch': self.extract_frame_pitch}[kind]


def settings_from_args(args):
    return Settings(Path(args.dataset_path), stft_kwargs(args), tuple(args.text_cleaners), args.extract_mels,
                    args.extract_durations, args.extract_pitch, args.extract_frame_pitch, args.durations_from,
                    args.pitch_fmin,
                    args.pitch_fmax, args.max_duration_s)


@dataclass(frozen=True)
class Clip:
    location: str   # filelist:line, for messages
    clip_id: str
    wav: str        # relative to the dataset path
    text: str


def output_path(dataset_path, kind, clip_id):
    return Path(dataset_path) / kind / f'{clip_id}.pt'


def timings_path(dataset_path, clip_id):
    return Path(dataset_path) / TIMINGS_DIR / f'{clip_id}.json'


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


# ---------------------------------------------------------------- checks before any work

def check_clip(entry, settings):
    """Raise FilelistError (`filelist:line: problem`) for a line that preprocessing cannot use."""
    wav = settings.dataset_path / entry.paths[0]
    num_samples = check_wav_header(entry, wav, settings)
    ids = entry_text_ids(entry, settings.text_cleaners).tolist()
    n_frames = mel_frame_count(num_samples, settings.stft['hop_length'])
    durations_file = output_path(settings.dataset_path, 'durations', entry.clip_id)
    if durations_file.is_file() and (settings.extract_durations or settings.extract_pitch):
        check_saved_durations(entry, durations_file, len(ids), n_frames)
    elif settings.extract_pitch and not settings.extract_durations:
        raise entry.error(f'{durations_file}: no such file; pitch per symbol needs durations (--extract-durations)')
    elif settings.extract_durations and settings.durations_from == 'espeak':
        check_timings(entry, settings, ids, num_samples)


def check_wav_header(entry, wav, settings):
    """Samples of a mono WAV at the expected rate and within the length limit (header only)."""
    if not wav.is_file():
        raise entry.error(f'{wav}: no such WAV file')
    try:
        info = sf.info(str(wav))
    except RuntimeError as error:
        raise entry.error(f'{wav}: not a readable WAV file ({error})') from None
    if info.channels != 1:
        raise entry.error(f'{wav}: has {info.channels} channels, expected mono')
    if info.samplerate != settings.stft['sampling_rate']:
        raise entry.error(f'{wav}: sampled at {info.samplerate} Hz, expected {settings.stft["sampling_rate"]} Hz '
                          '(--sampling-rate)')
    if info.frames <= settings.stft['filter_length'] // 2:
        raise entry.error(f'{wav}: has {info.frames} samples, too short for one STFT frame')
    seconds = info.frames / info.samplerate
    if seconds > settings.max_duration_s:
        raise entry.error(f'{wav}: lasts {seconds:.2f} s, longer than --max-duration-s {settings.max_duration_s:g}')
    return info.frames


def check_saved_durations(entry, path, n_symbols, n_frames):
    durations = load_entry_tensor(entry, path, 'durations')
    if durations.dim() != 1 or durations.numel() != n_symbols:
        raise entry.error(f'{path}: expected {n_symbols} durations (one per symbol), got {tuple(durations.shape)}')
    if int(durations.sum()) != n_frames:
        raise entry.error(f'{path}: durations sum to {int(durations.sum())} frames but the mel has {n_frames}')


def check_timings(entry, settings, ids, num_samples):
    path = timings_path(settings.dataset_path, entry.clip_id)
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
    """{filelist: [good entries]} and {filelist: [problems]}; without skip_bad the first problem is raised."""
    good, problems = {}, {}
    for filelist in filelists:
        bad = problems.setdefault(filelist, [])
        entries = read_filelist(filelist, n_path_columns=1, on_error=bad.append if skip_bad else None)
        good[filelist] = []
        for entry in entries:
            try:
                check_clip(entry, settings)
                good[filelist].append(entry)
            except FilelistError as error:
                if not skip_bad:
                    raise
                bad.append(error)
    return good, problems


# ---------------------------------------------------------------- work per clip (in worker processes)

_worker = {}  # settings, stft, the aligner and the kinds of output to write, set before the pool forks


class ClipData:
    """A clip's audio and mel, each read or computed at most once."""

    def __init__(self, clip, settings, stft):
        self.clip, self.settings, self.stft = clip, settings, stft

    @cached_property
    def audio(self):
        return load_wav(self.settings.dataset_path / self.clip.wav, self.settings.stft['sampling_rate'])[0]

    @cached_property
    def mel(self):
        saved = output_path(self.settings.dataset_path, 'mels', self.clip.clip_id)
        if saved.is_file():
            return load_tensor(saved, 'mel')
        return mel_from_audio(self.stft, self.audio)

    @cached_property
    def frame_pitch(self):
        """F0 per mel frame (Hz): pYIN is the slow step, so per-frame and per-symbol pitch share one run."""
        saved = output_path(self.settings.dataset_path, 'pitch', self.clip.clip_id)
        if saved.is_file():
            return load_tensor(saved, 'pitch')
        stft, settings = self.settings.stft, self.settings
        return frame_pitch(self.audio, stft['sampling_rate'], stft['filter_length'], stft['hop_length'],
                           settings.pitch_fmin, settings.pitch_fmax)


def clip_durations(data, settings, aligner):
    ids = torch.tensor(text_to_sequence(data.clip.text, settings.text_cleaners), dtype=torch.long)
    if settings.durations_from != ESPEAK:
        return aligner.durations(ids, data.mel)
    # check_timings has matched the timings to the WAV and the transcript.
    timings = json.loads(timings_path(settings.dataset_path, data.clip.clip_id).read_text())
    hop_length = settings.stft['hop_length']
    return durations_from_espeak(timings, settings.text_cleaners, mel_frame_count(timings['num_samples'], hop_length),
                                 hop_length)


def clip_pitch(data, settings):
    durations = load_tensor(output_path(settings.dataset_path, 'durations', data.clip.clip_id), 'durations')
    return char_pitch(data.frame_pitch, durations)


def process_clip(clip):
    """Write the clip's missing outputs -> (clip, problem or None)."""
    settings, stft, aligner = _worker['settings'], _worker['stft'], _worker['aligner']
    data = ClipData(clip, settings, stft)
    steps = (('mels', settings.extract_mels, lambda: data.mel),
             ('durations', settings.extract_durations, lambda: clip_durations(data, settings, aligner)),
             ('pitch', settings.extract_frame_pitch, lambda: data.frame_pitch),
             ('pitch_char', settings.extract_pitch, lambda: clip_pitch(data, settings)))
    try:
        for kind, wanted, make in steps:
            path = output_path(settings.dataset_path, kind, clip.clip_id)
            if wanted and kind in _worker['kinds'] and not path.is_file():
                torch_save_atomic(make(), path)
    except ValueError as error:  # AudioError, TimingsError, bad saved tensors: a problem of this clip
        return clip, str(error)
    return clip, None


def one_torch_thread():
    """Per-clip work is a chain of small operations (a batch of one): extra intra-op threads only add overhead and
    oversubscribe the cores that --workers already uses. Returns the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    return previous


def run_clips(clips, workers, skip_bad):
    """Process clips (in a pool of `workers` forked processes if workers > 1) -> {clip id: problem}."""
    problems = {}
    progress = tqdm(total=len(clips), unit='clip', desc='preprocessing', file=sys.stderr)
    pool = multiprocessing.get_context('fork').Pool(workers, one_torch_thread) if workers > 1 else None
    threads = None if pool else one_torch_thread()
    try:
        results = pool.imap_unordered(process_clip, clips) if pool else map(process_clip, clips)
        for clip, problem in results:
            progress.update()
            if problem is not None:
                if not skip_bad:
                    raise PrepareError(f'{clip.location}: {problem}')
                problems[clip.clip_id] = problem
    finally:
        progress.close()
        if pool:
            pool.terminate()
        else:
            torch.set_num_threads(threads)
    return problems


def compile_pitch_tracker(settings):
    """Run pYIN once on a short silence here: on a fresh install librosa's numba code compiles on first use, and
    forked workers compiling it all at once have crashed (a dead worker then stalls the pool)."""
    stft = settings.stft
    frame_pitch(torch.zeros(stft['filter_length'] * 4), stft['sampling_rate'], stft['filter_length'],
                stft['hop_length'], settings.pitch_fmin, settings.pitch_fmax)


def run_phases(clips, aligner, workers, skip_bad):
    """All outputs of every clip in one pass of the worker pool; but durations from a model on the GPU are made in
    this process between a pass for the mels and one for the pitch (forked workers cannot use CUDA, and on the CPU
    a default-size Tacotron 2 takes hours over LJSpeech). -> {clip id: problem}."""
    if aligner is not None and aligner.on_gpu:
        phases = [(('mels',), workers), (('durations',), 1), (('pitch', 'pitch_char'), workers)]
    else:
        phases = [(OUTPUT_KINDS, workers)]
    failed = {}
    for kinds, phase_workers in phases:
        _worker['kinds'] = kinds
        failed.update(run_clips([clip for clip in clips if clip.clip_id not in failed], phase_workers, skip_bad))
    return failed


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
        indices = {line.clip_id: index for index, line in enumerate(lines)}  # the dataset's items are its lines
        for entry in entries:
            if entry.clip_id not in indices:
                flags = ' '.join(EXTRACT_FLAGS[k] for k in DERIVED_FILELISTS[kind])
                problem = f'not in {path}: run prepare_dataset.py {flags} for it first'
                if not skip_bad:
                    raise entry.error(problem)
                problems[entry.clip_id] = problem
            elif entry.clip_id not in items:
                index = indices[entry.clip_id]
                items[entry.clip_id] = TeacherItem(lines[index], dataset, index)
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
    if not entries or not all(output_path(dataset_path, kind, entry.clip_id).is_file() for entry in entries):
        return None
    path = derived_filelist_path(filelist, teacher.fine_tuning_filelist)
    write_filelist(path, [[entry.paths[0], f'{kind}/{entry.clip_id}.pt', entry.text]
                          + ([] if entry.speaker is None else [entry.speaker]) for entry in entries])
    return path


# ---------------------------------------------------------------- outputs per filelist

def write_outputs(filelist, entries, settings):
    """Pitch statistics and the derived filelists of the entries whose files all exist."""
    def has(kind, entry):
        return output_path(settings.dataset_path, kind, entry.clip_id).is_file()

    def row(kinds, entry):
        paths = [f'{kind}/{entry.clip_id}.pt' for kind in kinds]
        return paths + [entry.text] + ([] if entry.speaker is None else [entry.speaker])

    written = []
    for kind, wanted in (('pitch_char', settings.extract_pitch), ('pitch', settings.extract_frame_pitch)):
        if wanted and entries:
            pitches = [load_tensor(output_path(settings.dataset_path, kind, entry.clip_id), 'pitch')
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


def extract(good, settings, aligner, args):
    """Write the per-clip outputs of every good entry -> {clip id: problem} of the clips left out (--skip-bad)."""
    clips = {}
    for entries in good.values():
        for entry in entries:
            clips.setdefault(entry.clip_id, Clip(entry.location, entry.clip_id, entry.paths[0], entry.text))
    _worker.update(settings=settings, stft=settings.mel_stft(), aligner=aligner)
    if settings.extract_pitch or settings.extract_frame_pitch:
        compile_pitch_tracker(settings)
    return run_phases(list(clips.values()), aligner, args.workers, args.skip_bad)


def prepare(args, aligner=None, teacher=None):
    """Run the whole preprocessing for parsed flags; `aligner` gives the durations unless they come from eSpeak,
    `teacher` the teacher-forced mels (the CLI loads both from --NAME-checkpoint). Returns the paths of the files
    written per filelist."""
    settings = settings_from_args(args)
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
    good, problems = check_filelists(args.wav_text_filelist, settings, args.skip_bad)

    extracting = any(settings.extracts(kind) for kind in OUTPUT_KINDS)
    failed = extract(good, settings, aligner, args) if extracting else {}

    def kept(entries):
        return [entry for entry in entries if entry.clip_id not in failed]
    written = {filelist: write_outputs(filelist, kept(entries), settings) if extracting else []
               for filelist, entries in good.items()}
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
            skipped += [(entry.line_number, f'{entry.location}: {failed[entry.clip_id]}') for entry in entries
                        if entry.clip_id in failed]
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
    parser.add_argument('--batch-size', type=positive_int, default=16,
                        help='Clips per batch of --teacher-mels-from (1: each clip without padding)')
    for name, spec in {**aligners, **teachers}.items():
        uses = [f'{flag} {name}' for flag, specs in (('--durations-from', aligners), ('--teacher-mels-from', teachers))
                if name in specs]
        parser.add_argument(f'--{name}-checkpoint', help=f'{spec.name} checkpoint for {" or ".join(uses)}')
    parser.add_argument('--allow-pickle', action='store_true',
                        help='Let the checkpoint unpickle Python objects (pickled checkpoints of the original NVIDIA '
                             'repositories); trusted files only')
    parser.add_argument('--pitch-fmin', type=float, default=PITCH_FMIN, help='Lowest F0 searched (Hz)')
    parser.add_argument('--pitch-fmax', type=float, default=PITCH_FMAX, help='Highest F0 searched (Hz)')
    parser.add_argument('--max-duration-s', type=float, default=20.0, help='Longest clip accepted (seconds)')
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
    return args


def main(argv=None):
    args = parse_args(argv)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    try:
        aligner = teacher = None
        if args.extract_durations and args.durations_from != ESPEAK:
            spec = aligning_specs()[args.durations_from]
            model = models.load_model_from_checkpoint(spec.name, aligner_checkpoint(args), device,
                                                      allow_pickle=args.allow_pickle)
            aligner = Aligner(spec, model)
        if args.teacher_mels_from:
            teacher = load_teacher(args.teacher_mels_from, teacher_checkpoint(args), device, args.allow_pickle)
        written = prepare(args, aligner, teacher)
    except (ValueError, OSError) as error:
        sys.exit(f'error: {error}')
    for filelist, paths in written.items():
        print(f'{filelist}: wrote ' + (', '.join(map(str, paths)) or 'per-clip files only'))


if __name__ == '__main__':
    main()
