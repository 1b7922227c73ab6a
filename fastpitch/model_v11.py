"""FastPitch 1.1: FastPitch that learns its own alignment, with optional energy and speaker conditioning.

text -> encoder FFT (+ speaker embedding) -> duration and pitch predictors -> + pitch embedding
     -> [energy predictor -> + energy embedding] -> length regulator -> decoder FFT -> linear projection to mel.
Training needs no external durations: the aligner (fastpitch/alignment.py) attends from mel frames to symbol
embeddings under a beta-binomial prior, the monotonic alignment search (common/alignment_search.py) turns that
into a hard alignment, and its per-symbol frame counts are the duration targets. Per-frame pitch and energy are
averaged per symbol over that alignment inside the model. As in the reference (DLE FastPitch 1.1), the state
dict, call signatures and outputs match its checkpoints, with three of its defects fixed: infer with a given
energy, pitch transforms at batch size > 1 (they get (B, T_text) pitch as in 1.0), the search on CPU tensors.
"""
import torch
import torch.nn.functional as F
from torch import nn

from fastpitch.alignment import ConvAttention
from fastpitch.model import TemporalPredictor, pitch_transform_stats, regulate_len
from fastpitch.transformer import FFTransformer, mask_from_lens

# Width of the aligner's shared space (fixed in the reference, not a config key).
ALIGNER_CHANNELS = 80


def mean_over_nonzero_frames(values, durations):
    """Per-symbol means of per-frame values over the frames each symbol lasts, counting only non-zero frames
    (unvoiced frames carry pitch 0); 0 where a symbol has none.

    values (B, C, T_mel); durations (B, T_text) frames, summing to at most T_mel. Returns (B, C, T_text).
    Sums are differences of cumulative sums, as in the reference (float32 rounding included).
    """
    ends = durations.cumsum(dim=1).long()
    starts = F.pad(ends[:, :-1], (1, 0))
    ends, starts = (index.unsqueeze(1).expand(-1, values.size(1), -1) for index in (ends, starts))
    value_sums = F.pad(values.cumsum(dim=2), (1, 0))
    nonzero_counts = F.pad((values != 0).cumsum(dim=2), (1, 0))
    totals = value_sums.gather(2, ends) - value_sums.gather(2, starts)
    counts = (nonzero_counts.gather(2, ends) - nonzero_counts.gather(2, starts)).to(totals.dtype)
    return torch.where(counts > 0, totals / counts.clamp_min(1), 0.0)


def _embedding_conv(channels, kernel_size):
    """A per-symbol value (pitch or energy, (B, 1, T_text)) -> (B, channels, T_text), "same" padding."""
    return nn.Conv1d(1, channels, kernel_size=kernel_size, padding=(kernel_size - 1) // 2)


class FastPitch11(nn.Module):
    def __init__(self, n_mel_channels, n_symbols, padding_idx, symbols_embedding_dim,
                 in_fft_n_layers, in_fft_n_heads, in_fft_d_head, in_fft_conv1d_kernel_size,
                 in_fft_conv1d_filter_size, in_fft_output_size,
                 p_in_fft_dropout, p_in_fft_dropatt, p_in_fft_dropemb,
                 out_fft_n_layers, out_fft_n_heads, out_fft_d_head, out_fft_conv1d_kernel_size,
                 out_fft_conv1d_filter_size, out_fft_output_size,
                 p_out_fft_dropout, p_out_fft_dropatt, p_out_fft_dropemb,
                 dur_predictor_kernel_size, dur_predictor_filter_size, p_dur_predictor_dropout,
                 dur_predictor_n_layers,
                 pitch_predictor_kernel_size, pitch_predictor_filter_size, p_pitch_predictor_dropout,
                 pitch_predictor_n_layers, pitch_embedding_kernel_size,
                 energy_conditioning, energy_predictor_kernel_size, energy_predictor_filter_size,
                 p_energy_predictor_dropout, energy_predictor_n_layers, energy_embedding_kernel_size,
                 n_speakers, speaker_emb_weight):
        super().__init__()
        # Submodules in the reference's order: it is the state dict's order.
        self.encoder = FFTransformer(
            n_layer=in_fft_n_layers, n_head=in_fft_n_heads, d_model=symbols_embedding_dim,
            d_head=in_fft_d_head, d_inner=in_fft_conv1d_filter_size, kernel_size=in_fft_conv1d_kernel_size,
            dropout=p_in_fft_dropout, dropatt=p_in_fft_dropatt, dropemb=p_in_fft_dropemb,
            embed_input=True, d_embed=symbols_embedding_dim, n_embed=n_symbols, padding_idx=padding_idx,
            heads_across_items=False)
        self.n_speakers = n_speakers
        self.speaker_emb = nn.Embedding(n_speakers, symbols_embedding_dim) if n_speakers > 1 else None
        self.speaker_emb_weight = speaker_emb_weight
        self.duration_predictor = TemporalPredictor(
            in_fft_output_size, dur_predictor_filter_size, dur_predictor_kernel_size,
            p_dur_predictor_dropout, dur_predictor_n_layers)
        self.decoder = FFTransformer(
            n_layer=out_fft_n_layers, n_head=out_fft_n_heads, d_model=symbols_embedding_dim,
            d_head=out_fft_d_head, d_inner=out_fft_conv1d_filter_size, kernel_size=out_fft_conv1d_kernel_size,
            dropout=p_out_fft_dropout, dropatt=p_out_fft_dropatt, dropemb=p_out_fft_dropemb,
            embed_input=False, heads_across_items=False)
        self.pitch_predictor = TemporalPredictor(
            in_fft_output_size, pitch_predictor_filter_size, pitch_predictor_kernel_size,
            p_pitch_predictor_dropout, pitch_predictor_n_layers)
        self.pitch_emb = _embedding_conv(symbols_embedding_dim, pitch_embedding_kernel_size)
        # training-set pitch statistics (Hz), set by the training script
        self.register_buffer('pitch_mean', torch.zeros(1))
        self.register_buffer('pitch_std', torch.zeros(1))
        self.energy_conditioning = energy_conditioning
        if energy_conditioning:
            self.energy_predictor = TemporalPredictor(
                in_fft_output_size, energy_predictor_filter_size, energy_predictor_kernel_size,
                p_energy_predictor_dropout, energy_predictor_n_layers)
            self.energy_emb = _embedding_conv(symbols_embedding_dim, energy_embedding_kernel_size)
        self.n_mel_channels = n_mel_channels
        self.proj = nn.Linear(out_fft_output_size, n_mel_channels)
        self.attention = ConvAttention(n_mel_channels, symbols_embedding_dim, ALIGNER_CHANNELS)
        # False when the weights came from a file without the aligner (NVIDIA's inference files may leave it out)
        self.aligner_loaded = True

    def forward(self, inputs, use_gt_pitch=True, pace=1.0, max_duration=75):
        """Training pass.

        inputs = [text (B, T_text) int64 padded with padding_idx, input_lengths (B,), mel (B, n_mel, T_mel)
        zero-padded, output_lengths (B,), pitch_dense (B, 1, T_mel) normalised per frame (0 = unvoiced),
        energy_dense (B, T_mel) per frame (ignored without energy conditioning), speaker (B,) ids or None,
        attn_prior (B, T_mel, T_text) or None, audiopaths (ignored)].
        Returns (mel_out (B, T, n_mel), dec_mask (B, T, 1) bool, dur_pred, log_dur_pred (B, T_text),
        pitch_pred, pitch_tgt (B, 1, T_text), energy_pred, energy_tgt (B, T_text) or None, attn_soft, attn_hard,
        (B, 1, T_mel, T_text), attn_hard_dur (B, T_text) float, attn_logprob (B, 1, T_mel, T_text)).
        Decoding is conditioned on the aligned targets (the pitch prediction with use_gt_pitch=False).
        """
        text, text_lens, mel_tgt, mel_lens, pitch_dense, energy_dense, speaker, attn_prior, _ = inputs
        enc_out, enc_mask = self.encoder(text, conditioning=self._speaker_embedding(speaker, text.size(0)))
        log_dur_pred, dur_pred, pitch_pred = self._predict(enc_out, enc_mask, max_duration)

        # the aligner reads the symbol embeddings without positions or speaker
        symbol_emb = self.encoder.word_emb(text).transpose(1, 2)
        attn_soft, attn_logprob = self.attention(
            mel_tgt, symbol_emb, mask_from_lens(text_lens, text.size(1)), attn_prior)
        # imported here, not at the top: numba costs 50 MB and a second of start-up, and synthesis never aligns
        from common.alignment_search import binarize_attention

        attn_hard, attn_hard_dur = binarize_attention(attn_soft, text_lens, mel_lens)

        pitch_tgt = mean_over_nonzero_frames(pitch_dense, attn_hard_dur)
        enc_out = enc_out + self.pitch_emb(pitch_tgt if use_gt_pitch else pitch_pred).transpose(1, 2)
        energy_pred = energy_tgt = None
        if self.energy_conditioning:
            energy_pred = self.energy_predictor(enc_out, enc_mask)
            # log(1 + x) rather than log1p: the reference's rounding
            energy_tgt = torch.log(1.0 + mean_over_nonzero_frames(energy_dense.unsqueeze(1), attn_hard_dur))
            enc_out = enc_out + self.energy_emb(energy_tgt).transpose(1, 2)
            energy_tgt = energy_tgt.squeeze(1)

        len_regulated, dec_lens = regulate_len(attn_hard_dur, enc_out, pace, mel_tgt.size(2), round_half_up=True)
        dec_out, dec_mask = self.decoder(len_regulated, dec_lens)
        return (self.proj(dec_out), dec_mask, dur_pred, log_dur_pred, pitch_pred, pitch_tgt,
                energy_pred, energy_tgt, attn_soft, attn_hard, attn_hard_dur, attn_logprob)

    def align(self, text, text_lens, mel, mel_lens, prior):
        """The hard alignments the aligner gives a batch of clips, as training takes durations from them: text
        (B, T_text) ids and mel (B, n_mel, T_mel), both padded as training pads them, prior (B, T_mel, T_text) ->
        (B, T_mel, T_text) 0/1, within each clip one symbol per frame, monotonic."""
        symbol_emb = self.encoder.word_emb(text).transpose(1, 2)
        attn_soft, _ = self.attention(mel, symbol_emb, mask_from_lens(text_lens, text.size(1)), prior)
        from common.alignment_search import binarize_attention  # as in forward

        attn_hard, _ = binarize_attention(attn_soft, text_lens, mel_lens)
        return attn_hard[:, 0]

    def infer(self, inputs, pace=1.0, dur_tgt=None, pitch_tgt=None, energy_tgt=None, pitch_transform=None,
              max_duration=75, speaker=0):
        """Synthesis from text ids (B, T_text) padded with padding_idx (the padding marks the lengths).

        dur_tgt (B, T_text) frames, pitch_tgt (B, 1, T_text) normalised and energy_tgt (B, 1, T_text) (log(1 +
        energy)) replace the predictions when given. pace > 1 speaks faster. speaker: an id or (B,) ids.
        pitch_transform(pitch, lengths, mean, std) -> pitch edits the predicted pitch before it is embedded, with
        1.0's convention: pitch normalised (B, T_text), lengths (B,) symbols, mean/std in Hz; unlike 1.0 (and as
        the 1.1 reference) its result is not zeroed on padding.
        Returns (mel_out (B, n_mel, T), dec_lens (B,) int64, dur_pred (B, T_text), pitch_pred (B, 1, T_text), the
        transformed prediction, energy (B, T_text): energy_tgt when given, else predicted; None without energy
        conditioning).
        """
        enc_out, enc_mask = self.encoder(inputs, conditioning=self._speaker_embedding(speaker, inputs.size(0)))
        _, dur_pred, pitch_pred = self._predict(enc_out, enc_mask, max_duration)
        if pitch_transform is not None:
            mean, std = pitch_transform_stats(self)
            pitch_pred = pitch_transform(pitch_pred.squeeze(1), enc_mask.sum(dim=(1, 2)), mean, std).unsqueeze(1)
        enc_out = enc_out + self.pitch_emb(pitch_pred if pitch_tgt is None else pitch_tgt).transpose(1, 2)
        energy = None
        if self.energy_conditioning:
            energy = self.energy_predictor(enc_out, enc_mask) if energy_tgt is None else energy_tgt.squeeze(1)
            enc_out = enc_out + self.energy_emb(energy.unsqueeze(1)).transpose(1, 2)

        durations = dur_pred if dur_tgt is None else dur_tgt
        len_regulated, dec_lens = regulate_len(durations, enc_out, pace, round_half_up=True)
        dec_out, _ = self.decoder(len_regulated, dec_lens)
        return self.proj(dec_out).transpose(1, 2), dec_lens, dur_pred, pitch_pred, energy

    def _predict(self, enc_out, enc_mask, max_duration):
        """Log-durations, durations (frames, clamped to [0, max_duration]) (B, T_text), pitch (B, 1, T_text)."""
        log_dur_pred = self.duration_predictor(enc_out, enc_mask)
        dur_pred = torch.clamp(torch.exp(log_dur_pred) - 1, 0, max_duration)
        return log_dur_pred, dur_pred, self.pitch_predictor(enc_out, enc_mask).unsqueeze(1)

    def _speaker_embedding(self, speaker, batch_size):
        """(B, 1, d) scaled speaker embedding to add to the encoder input, or None for a one-speaker model."""
        if speaker is None:
            if self.speaker_emb is not None:
                raise ValueError(f'speaker ids are required: the model has n_speakers={self.n_speakers}')
            return None
        ids = torch.as_tensor(speaker, dtype=torch.long, device=self.pitch_mean.device).expand(batch_size)
        if not torch.jit.is_tracing():  # a caller's ids are checked; a traced graph takes the ids it is given
            self._check_speakers(ids)
        if self.speaker_emb is None:
            return None
        return self.speaker_emb(ids).unsqueeze(1) * self.speaker_emb_weight

    def _check_speakers(self, ids):
        out_of_range = ids[(ids < 0) | (ids >= self.n_speakers)]
        if out_of_range.numel():
            raise ValueError(f'speaker id {int(out_of_range[0])} is out of range: the model has '
                             f'n_speakers={self.n_speakers}')
