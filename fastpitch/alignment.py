"""The learned aligner of FastPitch 1.1: a soft attention of mel frames over text symbols.

Symbol embeddings and mel frames are each encoded by a small convolution stack into a shared space; a frame's
score for a symbol is minus a scaled squared distance between the two encodings (an isotropic Gaussian), turned
into a distribution over the symbols and combined with the beta-binomial prior (fastpitch/attention_prior.py).
Training only: the hard alignment searched in it (common/alignment_search.py) gives the duration targets.
Parameter names (`attention.key_proj.0.conv`, ...) match the reference checkpoints.
"""
import torch
import torch.nn.functional as F
from torch import nn

from common.layers import ConvNorm

# The Gaussian's scale: score = -DISTANCE_SCALE * squared distance between the encodings.
DISTANCE_SCALE = 0.0005
# Added to the prior before its log, so that a zero prior is a large penalty instead of -inf.
PRIOR_FLOOR = 1e-8


class ConvAttention(nn.Module):
    def __init__(self, n_mel_channels=80, n_text_channels=384, n_att_channels=80):
        super().__init__()
        self.query_proj = nn.Sequential(
            ConvNorm(n_mel_channels, n_mel_channels * 2, kernel_size=3, w_init_gain='relu'),
            nn.ReLU(),
            ConvNorm(n_mel_channels * 2, n_mel_channels, kernel_size=1),
            nn.ReLU(),
            ConvNorm(n_mel_channels, n_att_channels, kernel_size=1))
        # Never used: the reference defines it and its checkpoints carry it, so strict loading needs it. Frozen, so
        # that DistributedDataParallel does not wait for gradients it never gets (the reference's DDP needs
        # find_unused_parameters and its cost every step instead).
        self.attn_proj = nn.Conv2d(n_att_channels, 1, kernel_size=1).requires_grad_(False)
        self.key_proj = nn.Sequential(
            ConvNorm(n_text_channels, n_text_channels * 2, kernel_size=3, w_init_gain='relu'),
            nn.ReLU(),
            ConvNorm(n_text_channels * 2, n_att_channels, kernel_size=1))

    def forward(self, mel, symbol_emb, symbol_mask, prior=None):
        """mel (B, n_mel, T_mel); symbol_emb (B, n_text, T_text); symbol_mask (B, T_text) bool, True on real
        symbols; prior (B, T_mel, T_text) or None.

        Returns (attn_soft, attn_logprob), both (B, 1, T_mel, T_text):
        attn_logprob = scores, with a prior log_softmax(scores over symbols) + log(prior + 1e-8), computed over
        every symbol (padding included, as the reference does; the CTC loss masks it);
        attn_soft = softmax over the real symbols of attn_logprob (zero on padded symbols).
        """
        queries = self.query_proj(mel)
        keys = self.key_proj(symbol_emb)
        # Squared distances as |q|^2 + |k|^2 - 2 q.k: a (B, T_mel, T_text) product where the reference builds the
        # (B, channels, T_mel, T_text) differences (about 1 GB with its gradient at LJSpeech batch sizes, and 10x
        # the time on a CPU). In float32 even under autocast: a half-precision product would lose the distances
        # of close pairs to cancellation. Against the reference's sums: score differences ~1e-6 (the golden data).
        with torch.autocast(device_type=mel.device.type, enabled=False):
            queries, keys = queries.float(), keys.float()
            norms = queries.pow(2).sum(1).unsqueeze(2) + keys.pow(2).sum(1).unsqueeze(1)
            distance = torch.baddbmm(norms, queries.transpose(1, 2), keys, alpha=-2.0)
        attn_logprob = -DISTANCE_SCALE * distance.unsqueeze(1)
        if prior is not None:
            attn_logprob = F.log_softmax(attn_logprob, dim=3) + torch.log(prior.unsqueeze(1) + PRIOR_FLOOR)
        padding = ~symbol_mask[:, None, None, :]
        attn_soft = F.softmax(attn_logprob.masked_fill(padding, float('-inf')), dim=3)
        return attn_soft, attn_logprob
