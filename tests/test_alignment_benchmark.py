"""benchmarks/alignment.py: word boundaries from durations against eSpeak's timings, on a hand-made clip and on the
tiny corpus, and the runner end to end with a budget of a second of CPU per model."""
import json
import shutil

import pytest

import prepare_dataset
import train
from benchmarks import alignment
from common.benchmarking import AlignmentCase

HOP = 100
# "ab cd." over 1000 samples (11 frames of 100 samples): 'ab' spoken over samples 0-400, a pause, 'cd' over 500-900
# and a final pause; the second word's event at sample 500
HAND_MADE = {'sampling_rate': 22050, 'num_samples': 1000, 'text': 'ab cd.',
             'words': [{'text_position': 0, 'length': 2, 'start_sample': 0},
                       {'text_position': 3, 'length': 2, 'start_sample': 500}],
             'phonemes': [{'name': 'a', 'start_sample': 0}, {'name': 'b', 'start_sample': 200},
                          {'name': '_', 'start_sample': 400}, {'name': 'k', 'start_sample': 500},
                          {'name': 'd', 'start_sample': 700}, {'name': '_:', 'start_sample': 900}]}
N_FRAMES = 11
CLEANERS = ['english_cleaners']


def test_words_of_a_hand_made_clip_have_their_boundaries_in_frames():
    spans = alignment.word_spans(HAND_MADE, CLEANERS, HOP, N_FRAMES)
    # 'ab' starts on the clip's first symbol (left out); it ends at 400 (frame 4), its pause held by the space;
    # 'cd' starts at its event (frame 5) and ends at 900 (frame 9), its pause held by the full stop
    assert spans == [alignment.WordSpan('ab', 0, 1, None, 4), alignment.WordSpan('cd', 3, 4, 5, 9)]


def test_espeak_durations_score_zero_and_a_shifted_alignment_its_shift():
    spans = alignment.word_spans(HAND_MADE, CLEANERS, HOP, N_FRAMES)
    espeak = prepare_dataset.durations_from_espeak(HAND_MADE, CLEANERS, N_FRAMES, HOP)
    assert espeak.tolist() == [2, 2, 1, 2, 2, 2]
    assert alignment.boundary_errors(espeak, spans) == [0, 0, 0]
    # one frame more for 'a': 'ab' ends and 'cd' starts a frame late; 'cd' ends where it should
    assert alignment.boundary_errors([3, 2, 1, 1, 2, 2], spans) == [1, 1, 0]
    result = alignment.summary([[1, 1, 0], [4]], ms_per_frame=10.0)
    assert result['boundaries'] == 4 and result['clips'] == 2
    assert result['median_frames'] == 1.0 and result['median_ms'] == 10.0
    assert result['p90_frames'] == pytest.approx(3.1)  # numpy's linear interpolation between 1 and 4


def test_espeak_durations_put_every_word_boundary_of_the_corpus_where_the_timings_do(corpus_dir):
    measured = 0
    for path in sorted((corpus_dir / 'timings').glob('*.json')):
        timings = json.loads(path.read_text())
        n_frames = timings['num_samples'] // 256 + 1
        spans = alignment.word_spans(timings, CLEANERS, 256, n_frames)
        errors = alignment.boundary_errors(
            prepare_dataset.durations_from_espeak(timings, CLEANERS, n_frames, 256), spans)
        assert errors and not any(errors), path.name
        assert len(errors) >= 2 * len(spans) - 2  # at most the clip's first start and last end are left out
        measured += len(errors)
    assert measured > 50


def test_every_aligning_model_has_an_alignment_case():
    cases = alignment.alignment_cases()
    assert set(cases) == set(prepare_dataset.aligning_specs())
    for spec, case in cases.values():
        assert isinstance(case, AlignmentCase) and case.filelist_kind in prepare_dataset.DERIVED_FILELISTS


def test_alignment_case_flags_parse_as_train_py_takes_them(tmp_path):
    for spec, case in alignment.alignment_cases().values():
        args = train.parse_args(alignment.train_argv(spec, case, tmp_path, tmp_path / 'out', batch_size=3))
        assert args.model_name == spec.name and args.batch_size == 3 and args.workers == 0
        assert args.training_files.endswith(f'_{case.filelist_kind}_train_filelist.txt')
    fastpitch_spec, fastpitch_case = alignment.alignment_cases()['fastpitch']
    args = train.parse_args(alignment.train_argv(fastpitch_spec, fastpitch_case, tmp_path, tmp_path / 'out'))
    assert args.fastpitch_version == '1.1'  # the version that learns its alignment


@pytest.mark.slow
def test_runner_trains_scores_and_writes_the_report(prepared_corpus, tmp_path, capsys):
    dataset = tmp_path / 'corpus'
    shutil.copytree(prepared_corpus, dataset)  # the runner writes into the corpus; the fixture is shared
    output = tmp_path / 'alignment.json'
    alignment.main(['-d', str(dataset), '--cpu-seconds', '1', '--batch-size', '2', '--work-dir',
                    str(tmp_path / 'work'), '--output', str(output)])
    report = json.loads(output.read_text())
    figures = {'median_frames', 'p90_frames', 'median_ms', 'p90_ms', 'boundaries', 'clips'}
    assert set(report['aligners']) == {case.name for _, case in alignment.alignment_cases().values()}
    for result in report['aligners'].values():
        for label in ('trained', 'untrained'):
            assert figures <= set(result[label]) and result[label]['clips'] == 1 and result[label]['boundaries'] > 0
            assert result[label]['median_ms'] == pytest.approx(
                result[label]['median_frames'] * report['settings']['ms_per_frame'])
        assert result['training']['steps'] >= 1 and result['training']['cpu_seconds'] >= 1
    assert report['references']["eSpeak's durations (prepare_dataset.py)"]['p90_frames'] == 0
    assert report['settings']['cpu_seconds_budget'] == 1
    assert 'untrained' in capsys.readouterr().out
