"""Trains the tiny video LLM of the semantic eval.

usage: python3 -m semantic.train --bank DIR --tokenizer 'node .../tokenize-server.js LLM.gguf'
                                 --out DIR [--steps N] [--seed S]
Writes into --out: weights.f32 + weights.json (tensors in llama.cpp's names, for the TypeScript
GGUF writer). semantic.reference then scores the held-out clips with this package's pipeline.
Deterministic from --seed for one machine and thread count (VIDLM_TRAIN_THREADS, default 2).
"""
import argparse
import json
import math
import os
import random
import shlex
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import tasks
from .data import EOS, EVAL_FRAMES, MODES, STRATEGIES, TRAIN_FRAMES, Bank, Tokenizer, example, encode
from .layouts import chat, layout
from .tinyllama import TinyLlama

# n_vocab: the fixture vocab's 32000 + LITA's <t0>..<t99> (lib/fixtures/semantic/vocab.ts), tied output
CFG = {'n_embd': 64, 'n_layer': 4, 'n_head': 4, 'n_ff': 192, 'eps': 1e-5, 'rope_base': 10000.0, 'n_vocab': 32100, 'n_ctx': 2048,
       'tied': True, 'time_tokens': 100}
# what each training example asks about: the strategies of vidlm's pooled path, all three time styles
# (LITA's twice as often: localization with time tokens is the task that needs the most examples)
STRATEGY_WEIGHTS = {'concat': 1, 'slowfast': 3, 'pllava': 1, 'bilinear': 1, 'vcgpt': 1}
MODE_WEIGHTS = {'none': 1, 'text': 1, 'lita': 2}
# frame sampling rules of the training examples: linspace and round (each method's own rule, tasks.method_times, in
# half the examples left colour unlearned: start and end answered with one colour; it is the validation's rule)
RULES = ['linspace', 'round']
# checkpoint selection: the validation set's clips per (strategy, time style, question), and from which share of
# the run on, every how many steps, the weights are validated (the best kept, the later on a tie)
VAL_CLIPS = 24
SELECT_FROM = 0.6
SELECT_EVERY = 250
# weight of the per-frame auxiliary targets of LITA prompts (data.aux_targets)
AUX_WEIGHT = 0.5


def draw_example(tok, bank, rng, progress):
    while True:
        strategy = rng.choices(STRATEGIES, [STRATEGY_WEIGHTS[s] for s in STRATEGIES])[0]
        mode = rng.choices(MODES, [MODE_WEIGHTS[m] for m in MODES])[0]
        lo, hi = TRAIN_FRAMES[strategy]
        # curriculum: few frames (few, distinct time markers) first, the whole range from 40 % of the run (from 70 %,
        # text-time colour questions held at 12 frames and failed at the eval's 16: long prompts came too late)
        hi = lo + max(1, round((hi - lo) * min(1.0, 0.3 + 1.75 * progress)))
        n = rng.randint(lo, hi)
        kind = 'flash' if rng.random() < 0.2 else 'scene'
        clip = tasks.make_clip(rng, kind)
        ex = example(tok, bank, clip, strategy, mode, n, rng, rng.choice(RULES), noise=0.002, aux=AUX_WEIGHT > 0)
        if ex is not None:
            return ex


def validation_set(tok, bank, seed):
    """Checkpoint selection: training-distribution clips of a seed of their own (not the held-out set), asked
    at each strategy's eval frame count by its method's own sampling rule: the start and end colours on every
    strategy but vcgpt (its layout keeps no order) and time style, and the square's span on slowfast + LITA."""
    rng = random.Random(seed)
    out = []
    for strategy in ['concat', 'slowfast', 'pllava', 'bilinear']:
        for mode in MODES:
            kinds = ['start', 'end'] + (['when'] if strategy == 'slowfast' and mode == 'lita' else [])
            for kind in kinds:
                while sum(1 for e in out if e['key'] == (strategy, mode, kind)) < VAL_CLIPS:
                    clip = tasks.make_clip(rng, 'scene')
                    ex = example(tok, bank, clip, strategy, mode, EVAL_FRAMES[strategy], rng, 'method', kind=kind)
                    if ex is not None:
                        ex['key'] = (strategy, mode, kind)
                        out.append(ex)
    return sorted(out, key=lambda e: len(e['ids']))


@torch.no_grad()
def validate(model, val, batch=32):
    """Share of validation answers the model gets exactly right (teacher-forced: every answer token, EOS
    included, is the argmax), the mean over the (strategy, time style, question) groups."""
    model.eval()
    right = {}
    for i in range(0, len(val), batch):
        exs = val[i:i + batch]
        ids, emb, emb_mask, targets, _ = batch_tensors(exs)
        pred = model.logits(model.hidden(ids, emb, emb_mask)).argmax(-1)
        ok = ((pred == targets) | (targets < 0)).all(-1)
        for e, o in zip(exs, ok.tolist()):
            right.setdefault(e['key'], []).append(o)
    model.train()
    return sum(sum(v) / len(v) for v in right.values()) / len(right)


def batch_tensors(exs):
    L = max(len(e['ids']) + len(e['answer']) for e in exs)
    ids = torch.zeros((len(exs), L), dtype=torch.long)
    emb_mask = torch.zeros((len(exs), L), dtype=torch.bool)
    targets = torch.full((len(exs), L), -100, dtype=torch.long)
    aux = torch.full((len(exs), L), -100, dtype=torch.long)
    embs = []
    for i, e in enumerate(exs):
        seq = e['ids'] + e['answer']
        p = len(e['ids'])
        ids[i, :len(seq)] = torch.tensor([max(x, 0) for x in seq])
        emb_mask[i, :p] = torch.tensor([x < 0 for x in e['ids']])
        targets[i, p - 1:p - 1 + len(e['answer'])] = torch.tensor(e['answer'])
        for q, t in e.get('aux', []):
            aux[i, q] = t
        embs.append(torch.from_numpy(e['emb']))
    return ids, torch.cat(embs), emb_mask, targets, aux


def loss_of(model, exs):
    ids, emb, emb_mask, targets, aux = batch_tensors(exs)
    h = model.hidden(ids, emb, emb_mask)
    sel = targets >= 0
    loss = F.cross_entropy(model.logits(h[sel]), targets[sel])
    sel = aux >= 0
    if AUX_WEIGHT > 0 and sel.any():
        loss = loss + AUX_WEIGHT * F.cross_entropy(model.logits(h[sel]), aux[sel])
    return loss


@torch.no_grad()
def greedy(model, ids, emb, max_tokens=24):
    """Greedy answer ids (EOS excluded) for a prompt, with a KV cache as llama.cpp decodes."""
    caches = [{} for _ in model.blocks]
    t = torch.tensor([[max(x, 0) for x in ids]])
    mask = torch.tensor([[x < 0 for x in ids]])
    h = model.hidden(t, torch.from_numpy(emb), mask, caches)
    n, out = len(ids), []
    for _ in range(max_tokens):
        nxt = int(model.logits(h[0, -1]).argmax())
        if nxt == EOS:
            break
        out.append(nxt)
        h = model.hidden(torch.tensor([[nxt]]), None, None, caches, n)
        n += 1
    return out


def iou(a, b):
    inter = max(min(a[1], b[1]) - max(a[0], b[0]), 0)
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def parse_pair(text, mode, duration):
    """The two times of a localization answer, in seconds (the reference's own reader)."""
    import re
    if mode == 'lita':
        xs = [round(int(m) * duration / 99, 2) for m in re.findall(r'<t(\d+)>', text)]
    else:
        xs = [float(m) for m in re.findall(r'\[(\d+(?:\.\d+)?)s\]', text)]
    if len(xs) < 2:
        return (0.0, duration)
    return (min(xs[0], xs[1]), max(xs[0], xs[1]))


def truth(clip, kind):
    if kind == 'start':
        return tasks.COLOURS[clip['segments'][0][2]]
    if kind == 'end':
        return tasks.COLOURS[clip['segments'][-1][2]]
    if kind == 'count':
        return str(len(clip['flashes']))
    return clip['object']


def score(clip, kind, answer, mode):
    if kind == 'when':
        return iou(parse_pair(answer, mode, clip['duration']), clip['object'])
    return 1.0 if answer.strip().lower().rstrip('.') == truth(clip, kind) else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bank', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--seed', type=int, default=1234)
    args = ap.parse_args()

    # 2 threads by default; on a machine shared with other jobs 1 is faster (no spinning at barriers)
    torch.set_num_threads(int(os.environ.get('VIDLM_TRAIN_THREADS', '2')))
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    tok = Tokenizer(shlex.split(args.tokenizer))
    bank = Bank(args.bank)
    model = TinyLlama(CFG)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    val = validation_set(tok, bank, args.seed + 1)
    best, best_step, best_state = -1.0, None, None
    t0 = time.time()
    pool = []
    for step in range(args.steps):
        if not pool:  # batches of similar lengths: little padding
            drawn = sorted((draw_example(tok, bank, rng, step / args.steps) for _ in range(4 * args.batch)), key=lambda e: len(e['ids']))
            pool = [drawn[i:i + args.batch] for i in range(0, len(drawn), args.batch)]
            rng.shuffle(pool)
        exs = pool.pop()
        loss = loss_of(model, exs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == args.steps - 1:
            print('step %d loss %.4f %.0fs' % (step, loss.item(), time.time() - t0), flush=True)
        if step + 1 >= SELECT_FROM * args.steps and ((step + 1) % SELECT_EVERY == 0 or step == args.steps - 1):
            v = validate(model, val)
            print('step %d validation %.4f' % (step + 1, v), flush=True)
            if v >= best:
                best, best_step, best_state = v, step + 1, {k: t.clone() for k, t in model.state_dict().items()}
    train_s = time.time() - t0
    model.load_state_dict(best_state)
    print('kept step %d (validation %.4f)' % (best_step, best))

    model.eval()
    # weights for the GGUF writer: one f32 blob, tensors in order, with llama.cpp's names and ggml dims
    names, offset = [], 0
    with open(args.out + '/weights.f32', 'wb') as f:
        for name, t in model.tensors():
            a = t.detach().numpy().astype(np.float32)
            f.write(a.tobytes())
            dims = [a.shape[1], a.shape[0]] if a.ndim == 2 else [a.shape[0]]
            names.append({'name': name, 'dims': dims, 'offset': offset})
            offset += a.size
    json.dump({'config': CFG, 'tensors': names, 'train_seconds': train_s, 'steps': args.steps, 'kept_step': best_step, 'validation': best, 'batch': args.batch, 'seed': args.seed},
              open(args.out + '/weights.json', 'w'), indent=1)

    tok.close()
    print('trained in %.0fs' % train_s)


if __name__ == '__main__':
    main()
