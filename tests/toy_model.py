"""A toy mel generator package, to prove that a model is one spec and one entry in models.MODELS: symbol embedding,
then a linear map to the mel bands, FRAMES_PER_SYMBOL frames per symbol. It trains on the Tacotron 2 mel filelists
(mels/ID.pt|text) by matching each clip's mean mel spectrum. It imports only common/, as a model package must."""
import dataclasses

import torch
from torch import nn

from common.data_args import DEFAULT_TEXT_CLEANERS
from common.filelist import entry_text_ids, load_mel_file, read_filelist
from common.model_spec import GENERATOR, ModelSpec
from common.text import PAD_ID
from common.text.processing import text_processing
from common.text.symbols import symbols
from common.training import StepResult

FRAMES_PER_SYMBOL = 2


class Toy(nn.Module):
    def __init__(self, n_symbols, n_mel_channels, embedding_dim):
        super().__init__()
        self.n_mel_channels = n_mel_channels
        self.toy_embedding = nn.Embedding(n_symbols, embedding_dim, padding_idx=PAD_ID)
        self.proj = nn.Linear(embedding_dim, n_mel_channels)

    def forward(self, text):
        """(B, T) ids -> (B, n_mel, T * FRAMES_PER_SYMBOL)."""
        mel = self.proj(self.toy_embedding(text)).transpose(1, 2)
        return mel.repeat_interleave(FRAMES_PER_SYMBOL, dim=2)

    def infer(self, text, lengths):
        return self(text), lengths * FRAMES_PER_SYMBOL


def add_model_args(parser):
    group = parser.add_argument_group('Toy')
    group.add_argument('--toy-embedding-dim', type=int, default=8)
    return parser


def model_config(args):
    return {'n_symbols': len(symbols), 'n_mel_channels': args.n_mel_channels,
            'embedding_dim': args.toy_embedding_dim}


class MelTextDataset(torch.utils.data.Dataset):
    def __init__(self, args, filelist):
        self.entries = read_filelist(filelist, n_path_columns=1)
        self.args = args

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        entry = self.entries[index]
        mel = load_mel_file(entry, f'{self.args.dataset_path}/{entry.paths[0]}', self.args.n_mel_channels)
        return entry_text_ids(entry, self.args.text_cleaners), mel.mean(dim=1)


def collate(batch):
    texts, spectra = zip(*batch)
    return nn.utils.rnn.pad_sequence(texts, batch_first=True, padding_value=PAD_ID), torch.stack(spectra)


def batch_to_device(batch, device):
    text, spectra = batch
    return text.to(device), spectra.to(device), text.numel()


def mean_spectrum_loss(predicted_mel, target_spectra):
    return (predicted_mel.mean(dim=2) - target_spectra).abs().mean()


class ToyGenerator:
    overrun_message = overrun_event = None

    def __init__(self, model, args, device):
        self.model = model
        self.n_mel_channels = model.n_mel_channels
        self.text_processing = text_processing(args.text_cleaners or DEFAULT_TEXT_CLEANERS)
        self.description = 'Toy'

    def __call__(self, text, lengths):
        mel, mel_lengths = self.model.infer(text, lengths)
        return mel, mel_lengths, None


SPEC = ModelSpec(
    name='Toy', model_class=Toy, role=GENERATOR, state_dict_marker='toy_embedding.',
    add_model_args=add_model_args, model_config=model_config,
    get_dataset=MelTextDataset, get_collate_fn=lambda args: collate, batch_to_device=batch_to_device,
    item_unit='symbols', build_loss=lambda args: mean_spectrum_loss, make_synthesizer=ToyGenerator,
)


class TwoOptimizerStep:
    """A training step of the toy's own, with one optimizer for the embedding and another for the projection, as a
    GAN brings one for its generator and one for its discriminators: the methods train.py calls of any step."""

    def __init__(self, model, loss_function, args, precision):
        self.model, self.loss_function = model, loss_function
        toy = getattr(model, 'module', model)  # inside DistributedDataParallel on several ranks
        self.optimizers = {'optimizer': torch.optim.Adam(toy.toy_embedding.parameters()),
                           'optimizer_projection': torch.optim.SGD(toy.proj.parameters(), lr=1.0, momentum=0.9)}
        self.nonfinite_in_a_row = 0

    def set_learning_rate(self, learning_rate):
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group['lr'] = learning_rate if name == 'optimizer' else 10 * learning_rate

    def accumulate(self, x, y, last_micro_batch):
        loss = self.loss_function(self.model(x), y)
        loss.backward()
        return loss.detach(), {}

    def step(self, loss_value):
        for optimizer in self.optimizers.values():
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return StepResult(grad_norm=0.0, skipped=False, nonfinite=False)

    def check_nonfinite_limit(self):
        pass

    def state_dict(self):
        return {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()}

    def load_state_dict(self, state, source, warn):
        for name, optimizer in self.optimizers.items():
            if name in state:
                optimizer.load_state_dict(state[name])


TWO_OPTIMIZER_SPEC = dataclasses.replace(SPEC, build_training_step=TwoOptimizerStep)
