"""Training data: where it is (the flags), and each model's dataset, collate function and batch transfer, found
through the one model table in models.py (each package exposes get_dataset(args, filelist_path),
get_collate_fn(args) and batch_to_device(batch, device) -> (x, y, num_items))."""
from models import model_package


def get_data_functions(model_name):
    return model_package(model_name)


def add_data_args(parser):
    group = parser.add_argument_group('dataset parameters')
    group.add_argument('-d', '--dataset-path', type=str, default='./',
                       help='Folder that the filelist paths are relative to')
    group.add_argument('--training-files', type=str, required=True, help='Filelist of the training clips')
    group.add_argument('--validation-files', type=str, required=True, help='Filelist of the validation clips')
    group.add_argument('--load-mel-from-disk', action='store_true',
                       help='Tacotron 2: read mels saved by prepare_dataset.py (filelist lines mels/ID.pt|text) '
                            'instead of computing them from the WAVs')
    return parser
