"""FastPitch 1.0: a non-autoregressive mel-spectrogram generator conditioned on per-symbol durations and pitch.

text -> encoder FFT -> (duration predictor, pitch predictor) -> + pitch embedding -> length regulator
     -> decoder FFT -> linear projection to mel bands.
Pitch is handled per symbol and normalised (zero mean, unit variance with the training set's statistics,
kept in the `pitch_mean` / `pitch_std` buffers so that they travel with the checkpoint).
Its building blocks (length regulator, predictors, pitch statistics) serve FastPitch 1.1 too (model_v11.py).
"""
import torch
import torch.nn.functional as F
from torch import nn

from common.layers import ChannelsLastConv1d
from fastpitch.transformer import FFTransformer, mask_from_lens

# LJSpeech-1.1 pitch statistics (Hz); pitch transforms fall back on them, as the reference does, when the
# model's own statistics were never set (pitch_std still 0).
FALLBACK_PITCH_MEAN = 218.14
FALLBACK_PITCH_STD = 67.24


def pitch_transform_stats(model):
    """(mean, std) in Hz that a pitch transform gets: the model's pitch_mean / pitch_std buffers, or the LJSpeech
    fallback while they were never set."""
    if float(model.pitch_std[0]) == 0.0:
        return FALLBACK_PITCH_MEAN, FALLBACK_PITCH_STD
    return model.pitch_mean[0], model.pitch_std[0]


def regulate_len(durations, enc_out, pace=1.0, mel_max_len=None, round_half_up=False):
    """Repeat each symbol's vector for its number of frames.

    durations (B, T_text) in frames; frame counts are torch.round(durations / pace) (half to even, as the 1.0
    reference), or floor(durations / pace + 0.5) with round_half_up (the 1.1 reference); a symbol may get zero
    frames. pace is a number or a (B, 1) tensor (one per item, as an exported graph takes it). Returns (frames
    (B, T_frames, D) zero-padded after each item's length, dec_lens (B,) int64). mel_max_len, when given, cuts the
    frames (and clamps dec_lens) to that many.

    Written with tensor sizes only (no Python numbers read off tensors), so that a traced or exported graph keeps
    the number of frames dynamic.
    """
    if not torch.jit.is_tracing():  # checks of what a caller gives; a traced graph gets the predictor's values
        if bool((torch.as_tensor(pace) <= 0).any()):
            raise ValueError(f'pace must be positive, got {pace}')
        if bool((durations < 0).any()):
            raise ValueError('durations must be non-negative')
    reps = durations.float() / pace
    reps = (reps + 0.5).floor().long() if round_half_up else torch.round(reps).long()
    dec_lens = reps.sum(dim=1)
    # at least one (masked) frame: a batch whose every item got zero frames still passes the decoder's convolutions
    n_frames = dec_lens.max().clamp_min(1)
    if mel_max_len is not None:
        n_frames = n_frames.clamp_max(mel_max_len)
        dec_lens = dec_lens.clamp_max(mel_max_len)

    # frame f belongs to the symbol whose cumulative end is the first one beyond f: the number of ends up to f
    symbol_ends = reps.cumsum(dim=1)
    frames = torch.arange(n_frames, device=durations.device)
    symbol_idx = (frames[None, :, None] >= symbol_ends[:, None, :]).sum(dim=2)
    symbol_idx = symbol_idx.clamp_max(durations.size(1) - 1)  # frames past an item's end, zeroed below
    enc_rep = enc_out.gather(1, symbol_idx.unsqueeze(2).expand(-1, -1, enc_out.size(2)))
    padding = ~mask_from_lens(dec_lens, n_frames).unsqueeze(2)
    return enc_rep.masked_fill(padding, 0.0), dec_lens


class ConvReLUNorm(nn.Module):
    """Conv1d ("same" padding) -> ReLU -> LayerNorm over channels -> dropout, on channels-last (B, T, C) signals."""

    def __init__(self, in_channels, out_channels, kernel_size, dropout):
        super().__init__()
        self.conv = ChannelsLastConv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, signal):
        return self.dropout(self.norm(F.relu(self.conv(signal))))


class TemporalPredictor(nn.Module):
    """Predicts one number per symbol (log-duration or normalised pitch); zero on padding."""

    def __init__(self, input_size, filter_size, kernel_size, dropout, n_layers):
        super().__init__()
        self.layers = nn.Sequential(*[
            ConvReLUNorm(input_size if i == 0 else filter_size, filter_size, kernel_size, dropout)
            for i in range(n_layers)])
        self.fc = nn.Linear(filter_size, 1)

    def forward(self, enc_out, enc_mask):
        """enc_out (B, T, D), enc_mask (B, T, 1) -> (B, T)."""
        out = self.layers(enc_out * enc_mask)
        return (self.fc(out) * enc_mask).squeeze(2)


class FastPitch(nn.Module):
    def __init__(self, n_mel_channels, max_seq_len, n_symbols, symbols_embedding_dim,
                 in_fft_n_layers, in_fft_n_heads, in_fft_d_head, in_fft_conv1d_kernel_size,
                 in_fft_conv1d_filter_size, in_fft_output_size,
                 p_in_fft_dropout, p_in_fft_dropatt, p_in_fft_dropemb,
                 out_fft_n_layers, out_fft_n_heads, out_fft_d_head, out_fft_conv1d_kernel_size,
                 out_fft_conv1d_filter_size, out_fft_output_size,
                 p_out_fft_dropout, p_out_fft_dropatt, p_out_fft_dropemb,
                 dur_predictor_kernel_size, dur_predictor_filter_size, p_dur_predictor_dropout,
                 dur_predictor_n_layers,
                 pitch_predictor_kernel_size, pitch_predictor_filter_size, p_pitch_predictor_dropout,
                 pitch_predictor_n_layers):
        super().__init__()
        # accepted for checkpoint-config compatibility only: the embedding size follows the symbol set and
        # positions are computed for any length
        del max_seq_len, n_symbols

        self.encoder = FFTransformer(
            n_layer=in_fft_n_layers, n_head=in_fft_n_heads, d_model=symbols_embedding_dim,
            d_head=in_fft_d_head, d_inner=in_fft_conv1d_filter_size, kernel_size=in_fft_conv1d_kernel_size,
            dropout=p_in_fft_dropout, dropatt=p_in_fft_dropatt, dropemb=p_in_fft_dropemb,
            embed_input=True, d_embed=symbols_embedding_dim)
        self.duration_predictor = TemporalPredictor(
            in_fft_output_size, dur_predictor_filter_size, dur_predictor_kernel_size,
            p_dur_predictor_dropout, dur_predictor_n_layers)
        self.decoder = FFTransformer(
            n_layer=out_fft_n_layers, n_head=out_fft_n_heads, d_model=symbols_embedding_dim,
            d_head=out_fft_d_head, d_inner=out_fft_conv1d_filter_size, kernel_size=out_fft_conv1d_kernel_size,
            dropout=p_out_fft_dropout, dropatt=p_out_fft_dropatt, dropemb=p_out_fft_dropemb,
            embed_input=False)
        self.pitch_predictor = TemporalPredictor(
            in_fft_output_size, pitch_predictor_filter_size, pitch_predictor_kernel_size,
            p_pitch_predictor_dropout, pitch_predictor_n_layers)
        self.pitch_emb = nn.Conv1d(1, symbols_embedding_dim, kernel_size=3, padding=1)
        # training-set pitch statistics (Hz), set by the training script from --pitch-mean-std-file
        self.register_buffer('pitch_mean', torch.zeros(1))
        self.register_buffer('pitch_std', torch.zeros(1))
        self.n_mel_channels = n_mel_channels
        self.proj = nn.Linear(out_fft_output_size, n_mel_channels)

    def _predict(self, text, max_duration):
        """Encoder output and mask, log-durations, durations (frames, clamped to [0, max_duration]), pitch."""
        enc_out, enc_mask = self.encoder(text)
        log_dur_pred = self.duration_predictor(enc_out, enc_mask)
        dur_pred = torch.clamp(torch.exp(log_dur_pred) - 1, 0, max_duration)
        pitch_pred = self.pitch_predictor(enc_out, enc_mask)
        return enc_out, enc_mask, log_dur_pred, dur_pred, pitch_pred

    def _synthesise(self, enc_out, pitch, durations, pace, mel_max_len):
        """Add the pitch embedding, expand symbols to frames, decode.

        Returns (mel (B, T, n_mel), dec_mask (B, T, 1), dec_lens (B,)).
        """
        enc_out = enc_out + self.pitch_emb(pitch.unsqueeze(1)).transpose(1, 2)
        len_regulated, dec_lens = regulate_len(durations, enc_out, pace, mel_max_len)
        dec_out, dec_mask = self.decoder(len_regulated, dec_lens)
        return self.proj(dec_out), dec_mask, dec_lens

    def forward(self, inputs, use_gt_durations=True, use_gt_pitch=True, pace=1.0, max_duration=75):
        """Training pass.

        inputs = [text (B, T_text) int64 padded with 0, input_lengths, mel (B, n_mel, T_mel), output_lengths,
        dur (B, T_text) frames, dur_lens, pitch (B, T_text) normalised]; the lengths are not needed here.
        Returns (mel_out (B, T, n_mel), dec_mask (B, T, 1) bool, dur_pred, log_dur_pred, pitch_pred), the
        last three (B, T_text); T <= T_mel.
        """
        text, _, mel_tgt, _, dur_tgt, _, pitch_tgt = inputs
        enc_out, _, log_dur_pred, dur_pred, pitch_pred = self._predict(text, max_duration)
        pitch = pitch_tgt if use_gt_pitch and pitch_tgt is not None else pitch_pred
        durations = dur_tgt if use_gt_durations else dur_pred
        mel_out, dec_mask, _ = self._synthesise(enc_out, pitch, durations, pace, mel_tgt.size(2))
        return mel_out, dec_mask, dur_pred, log_dur_pred, pitch_pred

    def infer(self, inputs, input_lens, pace=1.0, dur_tgt=None, pitch_tgt=None, max_duration=75,
              pitch_transform=None):
        """Synthesis from text ids (B, T_text), padded with 0 (the padding, not input_lens, marks lengths).

        dur_tgt / pitch_tgt (B, T_text) replace the predictions when given. pace > 1 speaks faster.
        pitch_transform(pitch, lengths, mean, std) -> pitch edits the predicted pitch before it is embedded:
        pitch is normalised (B, T_text), lengths (B,) counts symbols, mean/std (Hz) convert to and from Hz
        (pitch_hz = pitch * std + mean). Its result is zeroed on padding.
        Returns (mel_out (B, n_mel, T), dec_lens (B,) int64, dur_pred, pitch_pred (the transformed one)).
        """
        del input_lens  # lengths come from the padding symbol, as in the reference
        enc_out, enc_mask, _, dur_pred, pitch_pred = self._predict(inputs, max_duration)
        if pitch_transform is not None:
            mean, std = pitch_transform_stats(self)
            pitch_pred = pitch_transform(pitch_pred, enc_mask.sum(dim=(1, 2)), mean, std) * enc_mask.squeeze(2)
        pitch = pitch_pred if pitch_tgt is None else pitch_tgt
        durations = dur_pred if dur_tgt is None else dur_tgt
        mel_out, _, dec_lens = self._synthesise(enc_out, pitch, durations, pace, None)
        return mel_out.transpose(1, 2), dec_lens, dur_pred, pitch_pred

