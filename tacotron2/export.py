"""Tacotron 2 as three exportable graphs, as the reference exports it: the encoder, one decoder step, the postnet.

The decoding loop runs outside the graphs: in ONNX Runtime, common/onnx_runtime.py runs it; in TorchScript,
DecodingLoop below scripts it around the three traced graphs, one file for the whole model. The decoder step takes
its recurrent state and returns the next one under the same names prefixed `next_`, and takes the prenet's dropout
masks as inputs (the prenet drops out at synthesis too; the runtime draws the masks), so that every graph is
deterministic.
"""
import torch
from torch import nn

from common.data_args import DEFAULT_TEXT_CLEANERS
from common.export import TRACE_LENGTH, ExportPlan, Graph
from common.export_format import AUTOREGRESSIVE_GRAPHS, AUTOREGRESSIVE_TEXT_TO_MEL

from .model import DecoderState, gate_fires, lengths_from_gates, padding_mask

STATE = ('attention_hidden', 'attention_cell', 'decoder_hidden', 'decoder_cell', 'attention_weights',
         'attention_weights_cum', 'attention_context')
TOLERANCE = 1e-4  # mel values and gate logits of one graph call


class ExportableEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, text, text_lengths):
        """-> memory (B, T, C), processed memory (B, T, attention_dim), mask (B, T) True on padding."""
        memory = self.model.encode(text, text_lengths)
        processed_memory = self.model.decoder.attention_layer.memory_layer(memory)
        return memory, processed_memory, padding_mask(text_lengths, memory.size(1))


class ExportableDecoderStep(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, frame, dropout_mask_1, dropout_mask_2, attention_hidden, attention_cell, decoder_hidden,
                decoder_cell, attention_weights, attention_weights_cum, attention_context, memory, processed_memory,
                mask):
        """The previous frame (B, n_mel), the prenet masks and the state -> (next frame, gate logit (B,), the next
        state in STATE's order)."""
        state = DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell, attention_weights,
                             attention_weights_cum, attention_context)
        prenet_frame = self.decoder.prenet(frame, (dropout_mask_1, dropout_mask_2))
        hidden_context = self.decoder.step(prenet_frame, state, memory, processed_memory, mask,
                                           self.decoder._cells(memory))
        next_frame, gate = self.decoder.project(hidden_context)
        return (next_frame, gate.squeeze(1), state.attention_hidden, state.attention_cell, state.decoder_hidden,
                state.decoder_cell, state.attention_weights, state.attention_weights_cum, state.attention_context)


class ExportablePostnet(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.postnet = model.postnet

    def forward(self, mel):
        return mel + self.postnet(mel)


class DecodingLoop(nn.Module):
    """The whole model around its three graphs (traced ones for TorchScript, eager ones to check them against):
    text ids and lengths, and the prenet's dropout rate, -> (mel (B, n_mel, T_out), mel lengths (B,) int32).
    Stops as Tacotron2.infer does: when every item's gate has fired, or at max_decoder_steps."""

    def __init__(self, model, encoder, step, postnet):
        super().__init__()
        decoder = model.decoder
        self.encoder, self.step, self.postnet = encoder, step, postnet
        self.n_mel_channels = decoder.n_mel_channels
        self.state_sizes = [decoder.attention_rnn_dim, decoder.attention_rnn_dim, decoder.decoder_rnn_dim,
                            decoder.decoder_rnn_dim]
        self.prenet_sizes = prenet_sizes(decoder)
        self.max_decoder_steps = decoder.max_decoder_steps
        self.gate_threshold = decoder.gate_threshold
        self.early_stopping = decoder.early_stopping

    def forward(self, text, text_lengths, prenet_dropout: float):
        memory, processed_memory, mask = self.encoder(text, text_lengths)
        batch, n_symbols, width = memory.size(0), memory.size(1), memory.size(2)
        hidden = [memory.new_zeros(batch, size) for size in self.state_sizes]
        weights = [memory.new_zeros(batch, n_symbols), memory.new_zeros(batch, n_symbols)]
        context = memory.new_zeros(batch, width)
        frame = memory.new_zeros(batch, self.n_mel_channels)
        frames, gates = [], []
        finished = torch.zeros(batch, dtype=torch.bool)
        for _ in range(self.max_decoder_steps):
            masks = [prenet_dropout_mask(batch, size, prenet_dropout) for size in self.prenet_sizes]
            (frame, gate, hidden[0], hidden[1], hidden[2], hidden[3], weights[0], weights[1],
             context) = self.step(frame, masks[0], masks[1], hidden[0], hidden[1], hidden[2], hidden[3], weights[0],
                                  weights[1], context, memory, processed_memory, mask)
            frames.append(frame)
            gates.append(gate)
            finished = finished | gate_fires(gate, self.gate_threshold)
            if self.early_stopping and bool(finished.all()):
                break
        lengths, _ = lengths_from_gates(gate_fires(torch.stack(gates), self.gate_threshold), len(frames))
        return self.postnet(torch.stack(frames, dim=2)), lengths


def prenet_sizes(decoder):
    return [layer.linear_layer.out_features for layer in decoder.prenet.layers]


def prenet_dropout_mask(batch: int, size: int, p: float):
    """Units kept with probability 1 - p, scaled by 1 / (1 - p) as F.dropout does; all ones for p = 0."""
    if p <= 0.0:
        return torch.ones(batch, size)
    return (torch.rand(batch, size) >= p).float() / (1.0 - p)


def example_text(model, length):
    n_symbols = model.embedding.num_embeddings
    text = torch.randint(1, n_symbols, (2, length))
    lengths = torch.tensor([length, length - length // 3])
    return text.masked_fill(padding_mask(lengths, length), 0), lengths


@torch.no_grad()
def example_step(model, length):
    decoder = model.decoder
    memory, processed_memory, mask = ExportableEncoder(model)(*example_text(model, length))
    sizes = [decoder.attention_rnn_dim] * 2 + [decoder.decoder_rnn_dim] * 2
    weights = torch.softmax(torch.randn(2, length).masked_fill(mask, -float('inf')), dim=1)
    masks = [prenet_dropout_mask(2, size, decoder.prenet.p_dropout) for size in prenet_sizes(decoder)]
    return (torch.randn(2, decoder.n_mel_channels), *masks, *(torch.randn(2, size) for size in sizes), weights,
            2 * weights, torch.randn(2, memory.size(2)), memory, processed_memory, mask)


def export_plan(model, args):
    batch = {0: 'batch'}
    by_symbol = {0: 'batch', 1: 'symbols'}
    n_mel = model.decoder.n_mel_channels
    step_inputs = ('frame', 'dropout_mask_1', 'dropout_mask_2', *STATE, 'memory', 'processed_memory', 'mask')
    step_outputs = ('next_frame', 'gate_logit', *(f'next_{name}' for name in STATE))
    graphs = (
        Graph(name=AUTOREGRESSIVE_GRAPHS[0], module=ExportableEncoder(model).eval(), inputs=('text', 'text_lengths'),
              outputs=('memory', 'processed_memory', 'mask'),
              dynamic_axes={'text': by_symbol, 'text_lengths': batch, 'memory': by_symbol,
                            'processed_memory': by_symbol, 'mask': by_symbol},
              example=lambda length: example_text(model, length)),
        Graph(name=AUTOREGRESSIVE_GRAPHS[1], module=ExportableDecoderStep(model).eval(), inputs=step_inputs,
              outputs=step_outputs,
              dynamic_axes={**{name: batch for name in step_inputs + step_outputs},
                            **{name: by_symbol for name in ('attention_weights', 'attention_weights_cum', 'memory',
                                                            'processed_memory', 'mask', 'next_attention_weights',
                                                            'next_attention_weights_cum')}},
              example=lambda length: example_step(model, length)),
        Graph(name=AUTOREGRESSIVE_GRAPHS[2], module=ExportablePostnet(model).eval(), inputs=('mel',),
              outputs=('mel_postnet',),
              dynamic_axes={'mel': {0: 'batch', 2: 'frames'}, 'mel_postnet': {0: 'batch', 2: 'frames'}},
              example=lambda length: (torch.randn(2, n_mel, length),)))
    decoder = model.decoder
    metadata = {'model': 'Tacotron2', 'role': 'generator', 'n_mel_channels': n_mel, 'padding_id': 0,
                'text_cleaners': args.text_cleaners or DEFAULT_TEXT_CLEANERS, 'text_front_end': '1.0',
                'max_decoder_steps': decoder.max_decoder_steps, 'gate_threshold': decoder.gate_threshold,
                'early_stopping': decoder.early_stopping, 'prenet_dropout': decoder.prenet.p_dropout}
    return ExportPlan(runtime=AUTOREGRESSIVE_TEXT_TO_MEL, graphs=graphs, metadata=metadata, tolerance=TOLERANCE,
                      torchscript=lambda: whole_model_torchscript(model, graphs))


def whole_model_torchscript(model, graphs):
    """(DecodingLoop scripted around the three traced graphs, a Graph of the eager DecodingLoop to check it
    against with the prenet's dropout off: the random masks are the one thing the two cannot share)."""
    traced = [torch.jit.trace(graph.module, graph.example(TRACE_LENGTH), check_trace=False) for graph in graphs]
    scripted = torch.jit.script(DecodingLoop(model, *traced))
    eager = DecodingLoop(model, *(graph.module for graph in graphs)).eval()
    check = Graph(name='', module=eager, inputs=('text', 'text_lengths', 'prenet_dropout'),
                  outputs=('mel', 'mel_lengths'), dynamic_axes={},
                  example=lambda length: (*example_text(model, length), 0.0))
    return scripted, check
