import io
import math

import numpy as np
import torch

from common.logger import Logger, read_json_log


def test_json_lines_follow_the_dllogger_stream_format(tmp_path):
    out = io.StringIO()
    log_file = tmp_path / 'nvlog.json'
    logger = Logger(log_file=log_file, stdout=out)
    logger.metadata('train_loss', {'unit': None, 'format': ':>5.2f'})
    logger.log((1, 7), {'train_loss': torch.tensor(0.25), 'lr': 1e-3, 'frames': np.int64(4000)})
    logger.log((), {'val_loss': float('nan')})
    logger.close()

    records = read_json_log(log_file)
    assert [r['type'] for r in records] == ['METADATA', 'LOG', 'LOG']
    for record in records:
        assert set(record) == {'timestamp', 'elapsedtime', 'datetime', 'type', 'step', 'data'}
        assert record['elapsedtime'] >= 0
    assert records[1]['step'] == [1, 7]
    assert records[1]['data'] == {'train_loss': 0.25, 'lr': 1e-3, 'frames': 4000}
    assert records[2]['data'] == {'val_loss': 'nan'}  # JSON has no NaN: written as a string
    every_line = log_file.read_text().splitlines()
    assert all(line.startswith('DLLL {') for line in every_line)

    printed = out.getvalue().splitlines()
    assert printed[0] == 'epoch 1 iter 7 | train_loss 0.25 | lr 0.001 | frames 4000'
    assert printed[1].startswith('summary | val_loss nan')


def test_disabled_logger_writes_nothing(tmp_path):
    out = io.StringIO()
    logger = Logger(log_file=tmp_path / 'nvlog.json', stdout=out, enabled=False)
    logger.log((1, 1), {'loss': 1.0})
    logger.info('hello')
    logger.close()
    assert out.getvalue() == ''
    assert not (tmp_path / 'nvlog.json').exists()


def test_tensorboard_scalars_are_written(tmp_path):
    logger = Logger(log_file=None, tensorboard_dir=tmp_path / 'tb', stdout=io.StringIO())
    logger.log((1, 1), {'loss': 0.5, 'note': 'text is not a scalar'}, tensorboard_step=1)
    logger.image('alignment', np.zeros((4, 5, 3), dtype=np.uint8), 1)
    logger.close()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path / 'tb'))
    events.Reload()
    assert events.Tags()['scalars'] == ['loss']
    assert math.isclose(events.Scalars('loss')[0].value, 0.5)
    assert events.Tags()['images'] == ['alignment']
