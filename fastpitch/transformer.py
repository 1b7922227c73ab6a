"""Feed-forward Transformer (FFT) blocks of FastPitch 1.0 and 1.1.

A stack of post-norm layers, each multi-head self-attention followed by a convolutional feed-forward block.
The encoder variant embeds symbol ids (a padding id marks padding); the decoder variant takes frame vectors
and their lengths. Sub-module names (`dec_attn.qkv_net`, `pos_ff.CoreNet`, ...) match the reference
checkpoints. The defaults are 1.0's; 1.1 passes its table size, padding id and `heads_across_items=False`.
"""
import torch
import torch.nn.functional as F
from torch import nn

from common.layers import ChannelsLastConv1d
from common.text.symbols import symbols

# Symbol id that marks padding in encoder inputs (the '_' symbol); its embedding row stays zero.
PAD_IDX = 0


def mask_from_lens(lens, max_len=None):
    """Boolean (B, max_len) mask, True on the first lens[b] positions of each row."""
    if max_len is None:
        max_len = int(lens.max())
    positions = torch.arange(max_len, device=lens.device)
    return positions.unsqueeze(0) < lens.unsqueeze(1)


class PositionalEmbedding(nn.Module):
    """Sinusoidal position code: sines in the first half of the channels, cosines in the second."""

    def __init__(self, d_model):
        super().__init__()
        inv_freq = 1.0 / (10000 ** (torch.arange(0.0, d_model, 2.0) / d_model))
        self.register_buffer('inv_freq', inv_freq)

    def forward(self, n_positions, dtype):
        # angles in fp32 even for a half-precision model: fp16 cannot count positions past 2048
        positions = torch.arange(n_positions, device=self.inv_freq.device, dtype=torch.float32)
        angles = torch.outer(positions, self.inv_freq.float())
        return torch.cat([angles.sin(), angles.cos()], dim=1).to(dtype)


class MultiHeadAttn(nn.Module):
    """Self-attention with one fused q/k/v projection, a bias-free output projection and post-norm residual."""

    def __init__(self, n_head, d_model, d_head, dropout, dropatt, heads_across_items=True):
        super().__init__()
        self.heads_across_items = heads_across_items
        self.n_head = n_head
        self.d_head = d_head
        self.dropatt = dropatt
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head)
        self.drop = nn.Dropout(dropout)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, inp, key_mask):
        """inp (B, T, d_model); key_mask (B, T) bool, True on real positions.

        heads_across_items=True pairs heads and batch items as the reference 1.0 code does: it lays scores out
        item-major (item b, head h at b * n_head + h) but repeats the key mask and reads the result head-major
        (h * batch + b). With one head (the default config) or batch 1 that is plain multi-head attention;
        with several heads and items, heads of different items are mixed. Checkpoints trained that way
        expect it and the golden data assert it, so it is kept. False (the 1.1 reference) is plain
        multi-head attention.
        """
        batch, length, _ = inp.shape
        n_head, d_head = self.n_head, self.d_head
        # the fused projection is laid out as [q | k | v], each head after head
        qkv = self.qkv_net(inp).view(batch, length, 3, n_head, d_head).permute(2, 0, 3, 1, 4)
        query, key, value = qkv.unbind(0)
        if self.heads_across_items:
            attn_mask = key_mask.repeat(n_head, 1).view(batch, n_head, 1, length)
        else:
            attn_mask = key_mask.view(batch, 1, 1, length)
        attn_vec = F.scaled_dot_product_attention(
            query, key, value, attn_mask=attn_mask, dropout_p=self.dropatt if self.training else 0.0)
        if self.heads_across_items:
            attn_vec = attn_vec.reshape(n_head, batch, length, d_head).permute(1, 2, 0, 3)
        else:
            attn_vec = attn_vec.transpose(1, 2)
        attn_out = self.drop(self.o_net(attn_vec.reshape(batch, length, n_head * d_head)))
        return self.layer_norm(inp + attn_out)


class PositionwiseConvFF(nn.Module):
    """Conv1d -> ReLU -> Conv1d -> dropout over time, post-norm residual.

    As in the reference, the inner activation is not masked: with kernels wider than 1 the second convolution
    sees the first padded position's activation next to the last real one (golden outputs depend on it).
    """

    def __init__(self, d_model, d_inner, kernel_size, dropout):
        super().__init__()
        # channels-last convolutions: the (B, T, d_model) signal needs no transposes around them
        self.CoreNet = nn.Sequential(
            ChannelsLastConv1d(d_model, d_inner, kernel_size, padding=kernel_size // 2),
            nn.ReLU(),
            ChannelsLastConv1d(d_inner, d_model, kernel_size, padding=kernel_size // 2),
            nn.Dropout(dropout),
        )
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, inp):
        return self.layer_norm(inp + self.CoreNet(inp))


class TransformerLayer(nn.Module):
    def __init__(self, n_head, d_model, d_head, d_inner, kernel_size, dropout, dropatt, heads_across_items=True):
        super().__init__()
        self.dec_attn = MultiHeadAttn(n_head, d_model, d_head, dropout, dropatt, heads_across_items)
        self.pos_ff = PositionwiseConvFF(d_model, d_inner, kernel_size, dropout)

    def forward(self, inp, mask):
        """mask (B, T, 1) bool; padded positions leave every sub-block as zeros so convolutions see zeros there."""
        out = self.dec_attn(inp, key_mask=mask.squeeze(2)) * mask
        return self.pos_ff(out) * mask


class FFTransformer(nn.Module):
    """Stack of TransformerLayers over symbols (embed_input=True) or over frame vectors (embed_input=False).

    n_embed / padding_idx: the symbol table's size and padding id; by default (1.0) the table follows the symbol
    set, not the config's n_symbols, and id 0 pads, as in the 1.0 reference.
    """

    def __init__(self, n_layer, n_head, d_model, d_head, d_inner, kernel_size, dropout, dropatt,
                 dropemb=0.0, embed_input=True, d_embed=None, n_embed=None, padding_idx=PAD_IDX,
                 heads_across_items=True):
        super().__init__()
        self.padding_idx = padding_idx
        if embed_input:
            self.word_emb = nn.Embedding(n_embed or len(symbols), d_embed or d_model, padding_idx=padding_idx)
        else:
            self.word_emb = None
        self.pos_emb = PositionalEmbedding(d_model)
        self.drop = nn.Dropout(dropemb)
        self.layers = nn.ModuleList(
            TransformerLayer(n_head, d_model, d_head, d_inner, kernel_size, dropout, dropatt, heads_across_items)
            for _ in range(n_layer))

    def forward(self, dec_inp, seq_lens=None, conditioning=None):
        """dec_inp: symbol ids (B, T) for the encoder, or frames (B, T, d_model) with seq_lens (B,) for the decoder.
        conditioning (B, 1, d_model), e.g. a speaker embedding, is added to every position (padding included,
        as in the 1.1 reference) before the first layer.

        Returns (output (B, T, d_model) with zeros on padding, mask (B, T, 1) bool).
        """
        if self.word_emb is None:
            inp = dec_inp
            mask = mask_from_lens(seq_lens, inp.size(1)).unsqueeze(2)
        else:
            inp = self.word_emb(dec_inp)
            mask = (dec_inp != self.padding_idx).unsqueeze(2)
        out = inp + self.pos_emb(inp.size(1), inp.dtype) * mask
        if conditioning is not None:
            out = out + conditioning
        out = self.drop(out)
        for layer in self.layers:
            out = layer(out, mask)
        return out, mask
