"""Tacotron 2: symbols -> mel spectrogram with location-sensitive attention (Shen et al., 2018).

Module and parameter names follow the NVIDIA DeepLearningExamples checkpoints, so their state dicts load as they are.
Shapes in comments: B batch, T_in symbols, T_out mel frames.
"""
import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from common.layers import ConvNorm, LinearNorm
from common.lstm_cells import FusedLSTMCell

ENCODER_DROPOUT = 0.5
POSTNET_DROPOUT = 0.5
PRENET_DROPOUT = 0.5
GATE_PADDING_LOGIT = 1e3  # mask_padding: padded frames read as "stop" with certainty


def padding_mask(lengths, max_len):
    """(B, max_len) bool, True at positions at or beyond each item's length."""
    positions = torch.arange(max_len, device=lengths.device)
    return positions.unsqueeze(0) >= lengths.unsqueeze(1)


def gate_fires(gate_logits, threshold: float):
    """Whether the stop gate fires: not (sigmoid <= threshold), so that a NaN logit stops an item too."""
    return ~(torch.sigmoid(gate_logits) <= threshold)


def lengths_from_gates(fires, n_steps: int):
    """(mel lengths int32 (B,), unfinished bool (B,)) of a decoding whose stop gates fired as `fires` (T, B) says:
    an item's length counts the steps before its gate first fires (argmax finds the first True); an item whose
    gate never fired is unfinished and runs all n_steps."""
    unfinished = ~fires.any(dim=0)
    return torch.where(unfinished, n_steps, fires.int().argmax(dim=0)).int(), unfinished


def conv_bn_stack(channels, kernel_size, w_init_gains):
    """Conv1d+BatchNorm pairs: channels[i] -> channels[i+1], one init gain per pair."""
    return nn.ModuleList(
        nn.Sequential(ConvNorm(c_in, c_out, kernel_size, w_init_gain=gain), nn.BatchNorm1d(c_out))
        for c_in, c_out, gain in zip(channels[:-1], channels[1:], w_init_gains))


class Encoder(nn.Module):
    """Conv stack (ReLU, dropout) followed by a bidirectional LSTM run over the true lengths only."""

    def __init__(self, encoder_n_convolutions, encoder_embedding_dim, encoder_kernel_size):
        super().__init__()
        self.convolutions = conv_bn_stack([encoder_embedding_dim] * (encoder_n_convolutions + 1),
                                          encoder_kernel_size, ['relu'] * encoder_n_convolutions)
        self.lstm = nn.LSTM(encoder_embedding_dim, encoder_embedding_dim // 2, num_layers=1,
                            batch_first=True, bidirectional=True)

    def forward(self, x, input_lengths):
        """x (B, C, T_in), input_lengths (B,) -> (B, max(input_lengths), C), zero past each length."""
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x)), ENCODER_DROPOUT, self.training)
        # Packing keeps the backward direction from starting on padding; unsorted batches are fine.
        packed = nn.utils.rnn.pack_padded_sequence(x.transpose(1, 2), input_lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs, batch_first=True)
        return outputs


class Prenet(nn.Module):
    """Bottleneck on the previous frame. Its dropout stays on in eval mode too, as in the paper (variation in the
    output) and the reference; set `p_dropout = 0.0` to switch it off."""

    def __init__(self, in_dim, sizes):
        super().__init__()
        self.layers = nn.ModuleList(LinearNorm(d_in, d_out, bias=False)
                                    for d_in, d_out in zip([in_dim] + sizes[:-1], sizes))
        self.p_dropout = PRENET_DROPOUT

    def forward(self, x, dropout_masks=None):
        """dropout_masks: one per layer, each 0 or 1 / (1 - p) per unit, to take the place of the random dropout
        (an exported decoder step takes them as inputs: its runtime draws them)."""
        for i, linear in enumerate(self.layers):
            x = F.relu(linear(x))
            if dropout_masks is not None:
                x = x * dropout_masks[i]
            elif self.p_dropout > 0:
                x = F.dropout(x, self.p_dropout, training=True)
        return x


class LocationLayer(nn.Module):
    """Features of the previous and cumulative attention weights: (B, 2, T_in) -> (B, T_in, attention_dim)."""

    def __init__(self, attention_n_filters, attention_kernel_size, attention_dim):
        super().__init__()
        self.location_conv = ConvNorm(2, attention_n_filters, attention_kernel_size, bias=False)
        self.location_dense = LinearNorm(attention_n_filters, attention_dim, bias=False, w_init_gain='tanh')

    def forward(self, attention_weights_cat):
        return self.location_dense(self.location_conv(attention_weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """Location-sensitive additive attention; padded symbols get zero weight."""

    def __init__(self, attention_rnn_dim, embedding_dim, attention_dim, attention_location_n_filters,
                 attention_location_kernel_size):
        super().__init__()
        self.query_layer = LinearNorm(attention_rnn_dim, attention_dim, bias=False, w_init_gain='tanh')
        self.memory_layer = LinearNorm(embedding_dim, attention_dim, bias=False, w_init_gain='tanh')
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(attention_location_n_filters, attention_location_kernel_size,
                                            attention_dim)

    def forward(self, query, memory, processed_memory, attention_weights_cat, mask):
        """query (B, attention_rnn_dim), memory (B, T_in, C), processed_memory = memory_layer(memory),
        attention_weights_cat (B, 2, T_in), mask (B, T_in) True on padding -> context (B, C), weights (B, T_in)."""
        processed_query = self.query_layer(query.unsqueeze(1))
        processed_location = self.location_layer(attention_weights_cat)
        energies = self.v(torch.tanh(processed_query + processed_location + processed_memory)).squeeze(2)
        weights = F.softmax(energies.masked_fill(mask, -math.inf), dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


def _compute_dtype(x):
    """The dtype products on x's device run in: autocast's where it is on, else x's own."""
    device_type = x.device.type
    return torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else x.dtype


@dataclass
class DecoderState:
    """Recurrent state carried from one decoder step to the next."""
    attention_hidden: torch.Tensor
    attention_cell: torch.Tensor
    decoder_hidden: torch.Tensor
    decoder_cell: torch.Tensor
    attention_weights: torch.Tensor
    attention_weights_cum: torch.Tensor
    attention_context: torch.Tensor


class Decoder(nn.Module):
    """Autoregressive decoder: prenet -> attention LSTM -> attention -> decoder LSTM -> (mel frame, stop logit)."""

    def __init__(self, n_mel_channels, encoder_embedding_dim, attention_dim, attention_location_n_filters,
                 attention_location_kernel_size, attention_rnn_dim, decoder_rnn_dim, prenet_dim, max_decoder_steps,
                 gate_threshold, p_attention_dropout, p_decoder_dropout, early_stopping):
        super().__init__()
        self.n_mel_channels = n_mel_channels
        self.attention_rnn_dim = attention_rnn_dim
        self.decoder_rnn_dim = decoder_rnn_dim
        self.max_decoder_steps = max_decoder_steps
        self.gate_threshold = gate_threshold
        self.p_attention_dropout = p_attention_dropout
        self.p_decoder_dropout = p_decoder_dropout
        self.early_stopping = early_stopping

        self.prenet = Prenet(n_mel_channels, [prenet_dim, prenet_dim])
        self.attention_rnn = nn.LSTMCell(prenet_dim + encoder_embedding_dim, attention_rnn_dim)
        self.attention_layer = Attention(attention_rnn_dim, encoder_embedding_dim, attention_dim,
                                         attention_location_n_filters, attention_location_kernel_size)
        self.decoder_rnn = nn.LSTMCell(attention_rnn_dim + encoder_embedding_dim, decoder_rnn_dim)
        self.linear_projection = LinearNorm(decoder_rnn_dim + encoder_embedding_dim, n_mel_channels)
        self.gate_layer = LinearNorm(decoder_rnn_dim + encoder_embedding_dim, 1, w_init_gain='sigmoid')

    def initial_state(self, memory):
        batch_size, max_time, embedding_dim = memory.shape
        zeros = memory.new_zeros
        return DecoderState(
            attention_hidden=zeros(batch_size, self.attention_rnn_dim),
            attention_cell=zeros(batch_size, self.attention_rnn_dim),
            decoder_hidden=zeros(batch_size, self.decoder_rnn_dim),
            decoder_cell=zeros(batch_size, self.decoder_rnn_dim),
            attention_weights=zeros(batch_size, max_time),
            attention_weights_cum=zeros(batch_size, max_time),
            attention_context=zeros(batch_size, embedding_dim))

    def step(self, prenet_frame, state, memory, processed_memory, mask, cells):
        """One decoder step through `cells` (attention cell, decoder cell; see _cells), each called as
        cell(input, (hidden, cell state)) like nn.LSTMCell. Updates `state`; returns [decoder hidden, attention
        context] (B, D + C)."""
        attention_rnn, decoder_rnn = cells
        cell_input = torch.cat((prenet_frame, state.attention_context), dim=-1)
        hidden, state.attention_cell = attention_rnn(cell_input, (state.attention_hidden, state.attention_cell))
        # The dropped-out hidden state is also what the next step sees (as in the reference).
        state.attention_hidden = F.dropout(hidden, self.p_attention_dropout, self.training)

        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)
        state.attention_context, state.attention_weights = self.attention_layer(
            state.attention_hidden, memory, processed_memory, weights_cat, mask)
        state.attention_weights_cum = state.attention_weights_cum + state.attention_weights

        decoder_input = torch.cat((state.attention_hidden, state.attention_context), dim=-1)
        hidden, state.decoder_cell = decoder_rnn(decoder_input, (state.decoder_hidden, state.decoder_cell))
        state.decoder_hidden = F.dropout(hidden, self.p_decoder_dropout, self.training)
        return torch.cat((state.decoder_hidden, state.attention_context), dim=1)

    def _cells(self, memory):
        """The two LSTM cells for one pass: fused stand-ins for plain nn.LSTMCells; anything else (an int8 cell,
        say) is called as it is."""
        dtype = _compute_dtype(memory)
        return tuple(FusedLSTMCell(cell, dtype, memory.size(0)) if type(cell) is nn.LSTMCell else cell
                     for cell in (self.attention_rnn, self.decoder_rnn))

    def project(self, hidden_context):
        """[decoder hidden, attention context] (..., D + C) -> (mel frames (..., n_mel), gate logits (..., 1))."""
        return self.linear_projection(hidden_context), self.gate_layer(hidden_context)

    def forward(self, memory, decoder_inputs, memory_lengths):
        """Teacher forcing. memory (B, T_in, C), decoder_inputs (B, n_mel, T_out) ->
        mel (B, n_mel, T_out), gate logits (B, T_out), alignments (B, T_out, T_in)."""
        frames = decoder_inputs.permute(2, 0, 1)
        go_frame = frames.new_zeros(1, frames.size(1), frames.size(2))
        # Prenet over all steps at once (frame t feeds step t+1); the go frame feeds step 0.
        prenet_frames = self.prenet(torch.cat((go_frame, frames), dim=0))
        mask = padding_mask(memory_lengths.to(memory.device), memory.size(1))
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        cells = self._cells(memory)

        # Lists + one stack at the end: cheap to append, and autograd keeps one node per step.
        hidden_contexts, alignments = [], []
        for t in range(frames.size(0)):
            hidden_contexts.append(self.step(prenet_frames[t], state, memory, processed_memory, mask, cells))
            alignments.append(state.attention_weights)
        # Teacher forcing feeds no output back, so the projections run once over all steps.
        mel_outputs, gate_outputs = self.project(torch.stack(hidden_contexts, dim=2).transpose(1, 2))
        return mel_outputs.transpose(1, 2), gate_outputs.squeeze(2), torch.stack(alignments, dim=1)

    def infer(self, memory, memory_lengths):
        """Free running until every item's stop gate fires or max_decoder_steps. Returns mel (B, n_mel, T_out),
        gate logits (B, T_out), alignments (B, T_out, T_in), mel_lengths int32 (B,) and unfinished bool (B,):
        True where the gate never fired within max_decoder_steps."""
        batch_size, max_time, _ = memory.shape
        mask = padding_mask(memory_lengths.to(memory.device), max_time)
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)

        mel_outputs = memory.new_empty(self.max_decoder_steps, batch_size, self.n_mel_channels)
        gate_outputs = memory.new_empty(self.max_decoder_steps, batch_size)
        alignments = memory.new_empty(self.max_decoder_steps, batch_size, max_time)
        finished = torch.zeros(batch_size, dtype=torch.bool, device=memory.device)

        cells = self._cells(memory)
        frame = memory.new_zeros(batch_size, self.n_mel_channels)
        n_steps = 0
        while n_steps < self.max_decoder_steps:
            frame, gate = self.project(self.step(self.prenet(frame), state, memory, processed_memory, mask, cells))
            mel_outputs[n_steps] = frame
            gate_outputs[n_steps] = gate.squeeze(1)
            alignments[n_steps] = state.attention_weights
            n_steps += 1
            if self.early_stopping:  # the only per-step use of the gate; lengths are read off once at the end
                finished |= self._fires(gate.squeeze(1))
                if finished.all():
                    break
        mel_lengths, unfinished = lengths_from_gates(self._fires(gate_outputs[:n_steps]), n_steps)
        return (mel_outputs[:n_steps].permute(1, 2, 0), gate_outputs[:n_steps].t(),
                alignments[:n_steps].transpose(0, 1), mel_lengths, unfinished)

    def _fires(self, gate_logits):
        return gate_fires(gate_logits, self.gate_threshold)


class Postnet(nn.Module):
    """Residual refinement of the decoder's mel: conv stack, tanh on all but the last layer."""

    def __init__(self, n_mel_channels, postnet_embedding_dim, postnet_kernel_size, postnet_n_convolutions):
        super().__init__()
        channels = [n_mel_channels] + [postnet_embedding_dim] * (postnet_n_convolutions - 1) + [n_mel_channels]
        gains = ['tanh'] * (postnet_n_convolutions - 1) + ['linear']
        self.convolutions = conv_bn_stack(channels, postnet_kernel_size, gains)

    def forward(self, x):
        last = len(self.convolutions) - 1
        for i, conv in enumerate(self.convolutions):
            x = conv(x)
            if i < last:
                x = torch.tanh(x)
            x = F.dropout(x, POSTNET_DROPOUT, self.training)
        return x


class Tacotron2(nn.Module):
    def __init__(self, mask_padding, n_mel_channels, n_symbols, symbols_embedding_dim, encoder_kernel_size,
                 encoder_n_convolutions, encoder_embedding_dim, attention_rnn_dim, attention_dim,
                 attention_location_n_filters, attention_location_kernel_size, n_frames_per_step, decoder_rnn_dim,
                 prenet_dim, max_decoder_steps, gate_threshold, p_attention_dropout, p_decoder_dropout,
                 postnet_embedding_dim, postnet_kernel_size, postnet_n_convolutions, decoder_no_early_stopping):
        super().__init__()
        if n_frames_per_step != 1:
            raise ValueError(f'Tacotron2: n_frames_per_step must be 1 (got {n_frames_per_step})')
        if symbols_embedding_dim != encoder_embedding_dim:
            raise ValueError(f'Tacotron2: symbols_embedding_dim ({symbols_embedding_dim}) must equal '
                             f'encoder_embedding_dim ({encoder_embedding_dim})')
        if encoder_embedding_dim % 2:
            raise ValueError(f'Tacotron2: encoder_embedding_dim must be even (got {encoder_embedding_dim}): '
                             'the encoder LSTM gives half to each direction')
        self.mask_padding = mask_padding
        self.n_mel_channels = n_mel_channels
        self.n_frames_per_step = n_frames_per_step
        # After infer(): bool (B,), True for items whose stop gate never fired within max_decoder_steps.
        self.reached_max_decoder_steps = None

        self.embedding = nn.Embedding(n_symbols, symbols_embedding_dim)
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (n_symbols + symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(encoder_n_convolutions, encoder_embedding_dim, encoder_kernel_size)
        self.decoder = Decoder(n_mel_channels, encoder_embedding_dim, attention_dim, attention_location_n_filters,
                               attention_location_kernel_size, attention_rnn_dim, decoder_rnn_dim, prenet_dim,
                               max_decoder_steps, gate_threshold, p_attention_dropout, p_decoder_dropout,
                               early_stopping=not decoder_no_early_stopping)
        self.postnet = Postnet(n_mel_channels, postnet_embedding_dim, postnet_kernel_size, postnet_n_convolutions)

    def encode(self, text, input_lengths):
        """text (B, T_in) int64 -> encoder outputs (B, max(input_lengths), encoder_embedding_dim)."""
        return self.encoder(self.embedding(text).transpose(1, 2), input_lengths)

    def forward(self, inputs):
        """inputs = (text (B, T_in), input_lengths (B,), mel (B, n_mel, T_out), max_len, output_lengths (B,)) ->
        [mel_out, mel_out_postnet (B, n_mel, T_out), gate_out (B, T_out), alignments (B, T_out, T_in)]."""
        text, input_lengths, mel_target, _max_len, output_lengths = inputs
        memory = self.encode(text, input_lengths)
        mel_out, gate_out, alignments = self.decoder(memory, mel_target, input_lengths)
        mel_out_postnet = mel_out + self.postnet(mel_out)
        if self.mask_padding and output_lengths is not None:
            padded = padding_mask(output_lengths.to(mel_out.device), mel_out.size(2))
            mel_out = mel_out.masked_fill(padded.unsqueeze(1), 0.0)
            mel_out_postnet = mel_out_postnet.masked_fill(padded.unsqueeze(1), 0.0)
            gate_out = gate_out.masked_fill(padded, GATE_PADDING_LOGIT)
        return [mel_out, mel_out_postnet, gate_out, alignments]

    @torch.no_grad()
    def infer(self, text, input_lengths):
        """text (B, T_in), input_lengths (B,) -> mel_out_postnet (B, n_mel, T_out), mel_lengths int32 (B,),
        alignments (B, T_out, T_in). Sets `reached_max_decoder_steps` and warns when it is True for any item."""
        memory = self.encode(text, input_lengths)
        mel_out, _gate, alignments, mel_lengths, unfinished = self.decoder.infer(memory, input_lengths)
        self.reached_max_decoder_steps = unfinished
        if unfinished.any():
            warnings.warn(f'Tacotron2: {int(unfinished.sum())} of {len(unfinished)} inputs reached '
                          f'max_decoder_steps={self.decoder.max_decoder_steps} before the stop gate fired')
        return mel_out + self.postnet(mel_out), mel_lengths, alignments

    @torch.no_grad()
    def teacher_forced_alignment(self, text, text_lengths, mel):
        """The attention (B, T_out, T_in) of a teacher-forced pass over a batch of clips: text (B, T_in) int64
        padded, text_lengths (B,), mel (B, n_mel, T_out) padded after each clip's frames. The frames after a clip's
        own change none of its rows (the decoder reads the frames in order); the padding after its text does a
        little, through the encoder's convolutions, as in training. Runs in eval mode with the prenet dropout off,
        so that the alignment is deterministic (it gives FastPitch its durations); the model's mode and dropout are
        restored afterwards."""
        prenet = self.decoder.prenet
        was_training, p_dropout = self.training, prenet.p_dropout
        self.eval()
        prenet.p_dropout = 0.0
        try:
            memory = self.encode(text, text_lengths)
            return self.decoder(memory, mel, text_lengths)[2]
        finally:
            prenet.p_dropout = p_dropout
            self.train(was_training)
