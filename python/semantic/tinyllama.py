"""A tiny llama in PyTorch with exactly llama.cpp's `llama` graph: RMSNorm, RoPE on adjacent pairs
(LLAMA_ROPE_TYPE_NORM, so Q/K need no permutation on export), causal attention, SwiGLU, output
tied to the token embedding (cfg['tied']: no output.weight, llama.cpp then reuses token_embd), so
copying a time token from the prompt to the answer needs no separate output row to be learned.
Visual tokens enter as rows of the input embedding, as llama.cpp's prefill feeds them."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, pos, base):
    """x: (B, H, L, hd); rotates pairs (x[2i], x[2i+1]) by pos * base^(-2i/hd)."""
    hd = x.shape[-1]
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    return out.flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, ff = cfg['n_embd'], cfg['n_ff']
        self.h = cfg['n_head']
        self.base = cfg['rope_base']
        self.attn_norm = RMSNorm(d, cfg['eps'])
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg['eps'])
        self.gate = nn.Linear(d, ff, bias=False)
        self.up = nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, pos, mask, cache=None):
        B, L, d = x.shape
        hd = d // self.h
        h = self.attn_norm(x)
        q = self.q(h).view(B, L, self.h, hd).transpose(1, 2)
        k = self.k(h).view(B, L, self.h, hd).transpose(1, 2)
        v = self.v(h).view(B, L, self.h, hd).transpose(1, 2)
        q, k = rope(q, pos, self.base), rope(k, pos, self.base)
        if cache is not None:  # greedy decoding: keys and values of the earlier positions
            if 'k' in cache:
                k, v = torch.cat([cache['k'], k], 2), torch.cat([cache['v'], v], 2)
            cache['k'], cache['v'] = k, v
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, L, d)
        x = x + self.o(y)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class TinyLlama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg['n_vocab'], cfg['n_embd'])
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg['n_layer'])])
        self.norm = RMSNorm(cfg['n_embd'], cfg['eps'])
        self.tied = cfg.get('tied', False)
        self.out = None if self.tied else nn.Linear(cfg['n_embd'], cfg['n_vocab'], bias=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
        n_time = cfg.get('time_tokens', 0)
        if n_time:  # <t0>..<t99> (the vocab's last rows) start ordered: neighbours alike, far ones apart
            g = torch.Generator().manual_seed(cfg.get('init_seed', 0))
            d = cfg['n_embd']
            freq = torch.rand(d, generator=g) * 30
            phase = torch.rand(d, generator=g) * 2 * math.pi
            idx = torch.arange(n_time, dtype=torch.float32)[:, None] / (n_time - 1)
            with torch.no_grad():
                self.tok.weight[-n_time:] = 0.02 * math.sqrt(2) * torch.cos(math.pi * freq * idx + phase)

    def logits(self, h):
        return h @ self.tok.weight.t() if self.tied else self.out(h)

    def hidden(self, ids, emb, emb_mask, caches=None, start=0):
        """ids (B, L) token ids (any value where emb_mask), emb (n, d) rows for the masked places;
        with `caches` (one dict per block), positions start at `start` after the cached ones."""
        x = self.tok(ids.clamp(min=0))
        if emb is not None and emb.shape[0]:
            x = x.masked_scatter(emb_mask[..., None], emb)
        L = ids.shape[1]
        pos = torch.arange(start, start + L)
        mask = torch.full((L, start + L), float('-inf')).triu(start + 1)
        for i, b in enumerate(self.blocks):
            x = b(x, pos, mask, caches[i] if caches is not None else None)
        return self.norm(x)

    def tensors(self):
        """(gguf name, torch tensor) in llama.cpp's names; Linear weights are (out, in) = ggml [in, out]."""
        yield 'token_embd.weight', self.tok.weight
        for i, b in enumerate(self.blocks):
            yield f'blk.{i}.attn_norm.weight', b.attn_norm.weight
            yield f'blk.{i}.attn_q.weight', b.q.weight
            yield f'blk.{i}.attn_k.weight', b.k.weight
            yield f'blk.{i}.attn_v.weight', b.v.weight
            yield f'blk.{i}.attn_output.weight', b.o.weight
            yield f'blk.{i}.ffn_norm.weight', b.ffn_norm.weight
            yield f'blk.{i}.ffn_gate.weight', b.gate.weight
            yield f'blk.{i}.ffn_up.weight', b.up.weight
            yield f'blk.{i}.ffn_down.weight', b.down.weight
        yield 'output_norm.weight', self.norm.weight
        if not self.tied:
            yield 'output.weight', self.out.weight
