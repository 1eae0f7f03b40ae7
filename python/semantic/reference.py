"""The reference pipeline: the trained model (weights.f32) answers the held-out clips' questions on
this package's own layouts, sampling the clip specs directly (no decoding), so any gap between
its numbers and `vidlm eval semantic` on the same clips as video files is vidlm's.

usage: python3 -m semantic.reference --dir DIR --tokenizer CMD [--scene N] [--flash N] [--seed S]
Writes heldout.json (clip specs), reference.json (one row per question) and check.json + check.f32
(exact inputs and greedy answers, to compare llama.cpp's answers with PyTorch's).
Not part of the training's cache key: the held-out set can change without retraining.
"""
import argparse
import json
import random
import shlex
import time

import numpy as np
import torch

from . import tasks
from .data import EVAL_FRAMES, MODES, STRATEGIES, Bank, Tokenizer, encode
from .layouts import chat, layout
from .tinyllama import TinyLlama
from .train import greedy, score


# the bank variant the reference's frames come from: decoded from a 4:3 H.264 file and padded to the square, as
# vidlm's default fit ('pad', black bars) gives the held-out clips (most are 4:3); lib/fixtures/semantic/bank.ts
# orders the variants: drawn, then per file stretched and padded
REF_VARIANT = 2


def load_model(d):
    meta = json.load(open(d + '/weights.json'))
    model = TinyLlama(meta['config'])
    flat = np.fromfile(d + '/weights.f32', dtype=np.float32)
    by_name = {t['name']: t for t in meta['tensors']}
    with torch.no_grad():
        for name, p in model.tensors():
            t = by_name[name]
            p.copy_(torch.from_numpy(flat[t['offset']:t['offset'] + p.numel()].reshape(p.shape)))
    model.eval()
    return model


def eval_times(clip, strategy, n):
    """Frame times by each method's own index rule, as vidlm samples them (tasks.method_times). The training
    draws linspace and round only (its checkpoint selection validates on these rules), so PLLaVA's and
    Video-ChatGPT's rules give frame times (and time tokens) it did not train on."""
    return tasks.method_times(clip, strategy, n)


def heldout(seed, n_scene, n_flash):
    """Scene clips whose start and end colours differ and whose square is off-centre (first or last
    part, in turn), so reversed frames change every colour answer and move every span."""
    rng = random.Random(seed)
    clips = []
    for i in range(n_scene):
        while True:
            c = tasks.make_clip(rng, 'scene', fps=rng.choice([10, 15]))
            if c['segments'][0][2] != c['segments'][-1][2]:
                break
        d = c['duration']
        length = rng.uniform(0.2, 0.35) * d
        start = rng.uniform(0.05, 0.2) * d if i % 2 == 0 else rng.uniform(0.6, 0.75) * d
        c['object'] = (round(start, 2), round(min(start + length, 0.97 * d), 2))
        c['id'] = 'scene-%02d' % i
        clips.append(c)
    for i in range(n_flash):
        c = tasks.make_clip(rng, 'flash', fps=rng.choice([10, 15]))
        c['id'] = 'flash-%02d' % i
        clips.append(c)
    return clips


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--scene', type=int, default=12)
    ap.add_argument('--flash', type=int, default=6)
    ap.add_argument('--seed', type=int, default=2024)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok = Tokenizer(shlex.split(args.tokenizer))
    bank = Bank(args.dir)
    model = load_model(args.dir)
    clips = heldout(args.seed, args.scene, args.flash)
    json.dump(clips, open(args.dir + '/heldout.json', 'w'), indent=1)

    rows, cases, embs, at = [], [], [], 0
    rng = random.Random(7)
    for strategy in STRATEGIES:
        for mode in MODES:
            n = EVAL_FRAMES[strategy]
            for clip in clips:
                kinds = ['count'] if clip['kind'] == 'flash' else ['start', 'end'] + (['when'] if mode != 'none' else [])
                for kind in kinds:
                    times = eval_times(clip, strategy, n)
                    grids = bank.grids([tasks.state_at(clip, t) for t in times], rng, variant=REF_VARIANT)
                    q = {'start': tasks.Q_START, 'end': tasks.Q_END, 'when': tasks.Q_WHEN, 'count': tasks.Q_COUNT}[kind]
                    items = chat(strategy, layout(strategy, grids, times, mode, clip['duration']), q)
                    ids, emb, _ = encode(tok, items)
                    t0 = time.time()
                    ans_ids = greedy(model, ids, emb)
                    seconds = time.time() - t0
                    answer = tok.text(ans_ids)
                    rows.append({'clip': clip['id'], 'strategy': strategy, 'mode': mode, 'task': kind, 'answer': answer,
                                 'score': score(clip, kind, answer, mode), 's': seconds, 'visual': int(emb.shape[0])})
                    if clip is clips[0] or clip is clips[-1]:  # export check: exact inputs and PyTorch's greedy answer
                        case = {'strategy': strategy, 'mode': mode, 'clip': clip['id'], 'task': kind, 'answer': ans_ids, 'items': []}
                        for k, v in items:
                            if k == 'text':
                                case['items'].append({'text': v})
                            else:
                                case['items'].append({'rows': int(v.shape[0]), 'offset': at})
                                embs.append(v.astype(np.float32).reshape(-1))
                                at += v.size
                        cases.append(case)
    # the export check through llama-mtmd-cli: one still frame of a state (bank variant 0: drawn at the
    # encoder's size, as a lossless PNG of it gives llama-mtmd-cli) in llama-mtmd-cli's own prompt
    # ('USER: ' image '\n' question '\nASSISTANT:', the 1-frame concat layout without time markers)
    images = []
    for state, kind in [(tasks.state_id(0, True), 'start'), (tasks.state_id(2, False), 'end'), (tasks.state_id(5, True), 'when'), (tasks.FLASH, 'count')]:
        q = {'start': tasks.Q_START, 'end': tasks.Q_END, 'when': tasks.Q_WHEN, 'count': tasks.Q_COUNT}[kind]
        ids, emb, _ = encode(tok, chat('concat', layout('concat', bank.grids([state], rng, variant=0), [0.0], 'none', 1.0), q))
        ans_ids = greedy(model, ids, emb)
        images.append({'state': state, 'question': q, 'answer': ans_ids, 'text': tok.text(ans_ids)})
    json.dump(images, open(args.dir + '/check-image.json', 'w'), indent=1)
    json.dump({'rows': rows}, open(args.dir + '/reference.json', 'w'))
    np.concatenate(embs).astype(np.float32).tofile(args.dir + '/check.f32')
    json.dump(cases, open(args.dir + '/check.json', 'w'))
    tok.close()


if __name__ == '__main__':
    main()
