"""Training / evaluation examples: clip -> sampled frames -> bank embeddings -> layout -> tokens."""
import json
import subprocess

import numpy as np

from . import tasks
from .layouts import chat, layout, marker

STRATEGIES = ['concat', 'slowfast', 'pllava', 'bilinear', 'vcgpt']
MODES = ['none', 'text', 'lita']
# frames per question in the held-out eval, and the range trained on (fewer first: the curriculum)
EVAL_FRAMES = {'concat': 4, 'slowfast': 16, 'pllava': 8, 'bilinear': 8, 'vcgpt': 16}
TRAIN_FRAMES = {'concat': (2, 6), 'slowfast': (6, 20), 'pllava': (4, 10), 'bilinear': (4, 10), 'vcgpt': (6, 20)}
# share of training clips whose frames all come from one bank variant (one file's size, codec and padding, as
# a real video's frames do); the others draw a variant per frame
CLIP_VARIANT = 0.75
EOS = 2
BOS = 1


class Tokenizer:
    """llama.cpp's tokenizer of the LLM's vocab, run by vidlm's addon in a child process (tokenizing
    is not the layout under test): one JSON string per line in, one JSON array of ids per line out."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.cache = {}

    def __call__(self, s):
        ids = self.cache.get(s)
        if ids is None:
            self.p.stdin.write(json.dumps(s) + '\n')
            self.p.stdin.flush()
            ids = json.loads(self.p.stdout.readline())
            self.cache[s] = ids
        return ids

    def text(self, ids):
        self.p.stdin.write(json.dumps(ids) + '\n')
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class Bank:
    def __init__(self, path):
        meta = json.load(open(path + '/bank.json'))
        self.ny, self.nx, self.dim = meta['ny'], meta['nx'], meta['dim']
        self.variants = meta['variants']
        self.data = np.fromfile(path + '/bank.f32', dtype=np.float32).reshape(meta['states'], self.variants, self.ny, self.nx, self.dim)

    def grids(self, states, rng, noise=0.0, variant=None):
        out = np.stack([self.data[s, variant if variant is not None else rng.randrange(self.variants)] for s in states])
        if noise:
            out = out + np.asarray(np.random.RandomState(rng.randrange(1 << 30)).normal(0, noise, out.shape), dtype=np.float32)
        return out


def question_for(clip, times, mode, duration, rng, kind=None):
    """A question about what the sampled frames show, and its answer (None when not answerable)."""
    states = [tasks.state_at(clip, t) for t in times]
    if clip['kind'] == 'flash':
        return tasks.Q_COUNT, str(len(tasks.runs([s == tasks.FLASH for s in states]))), 'count'
    # text-time 'when' answers (two multi-token markers) are learned barely and crowded out the colour questions
    # with text markers: once per colour question there, three times with LITA's single-token markers
    choices = ['start', 'end'] + (['when'] * (3 if mode == 'lita' else 1 if mode == 'text' else 0))
    kind = kind or rng.choice(choices)
    if kind == 'start':
        return tasks.Q_START, tasks.COLOURS[states[0] // 2], kind
    if kind == 'end':
        return tasks.Q_END, tasks.COLOURS[states[-1] // 2], kind
    seen = tasks.runs([s != tasks.FLASH and s % 2 == 1 for s in states])
    if len(seen) != 1:
        return None
    a, b = seen[0]
    return tasks.Q_WHEN, marker(times[a], mode, duration) + ' ' + marker(times[b], mode, duration), kind


def encode(tok, items, answer=None):
    """Token ids (-1 where an embedding goes), embedding rows, and the answer's ids (EOS last)."""
    ids, embs = [BOS], []
    for kind, v in items:
        if kind == 'text':
            ids += tok(v)
        else:
            ids += [-1] * v.shape[0]
            embs.append(v)
    emb = np.concatenate(embs).astype(np.float32) if embs else np.zeros((0, 0), np.float32)
    ans = tok(answer) + [EOS] if answer is not None else None
    return ids, emb, ans


def aux_targets(ids, states, first_time_id):
    """Auxiliary targets of a LITA prompt (training only): the frames' time tokens are single tokens,
    the first T of them the frames in order. At frame i's marker (which sees frames < i): the marker of
    the first frame so far that shows the square; at the token before the next marker (which sees
    frames <= i): the marker of the last one so far. The answer's two times are these at the end, so
    the targets teach, frame by frame, the copy the localization answer needs."""
    at = [p for p, x in enumerate(ids) if x >= first_time_id][:len(states)]
    if len(at) < len(states):
        return []
    sq = [s != tasks.FLASH and s % 2 == 1 for s in states]
    out, first, last = [], None, None
    for i, p in enumerate(at):
        if first is not None:
            out.append((p, ids[at[first]]))
        if sq[i]:
            first = i if first is None else first
            last = i
        if last is not None and i + 1 < len(at):
            out.append((at[i + 1] - 1, ids[at[last]]))
    return out


def example(tok, bank, clip, strategy, mode, n_frames, rng, rule='linspace', noise=0.0, kind=None, variant=None, aux=False):
    times = tasks.method_times(clip, strategy, n_frames) if rule == 'method' else tasks.sample_times(clip, n_frames, rule)
    qa = question_for(clip, times, mode, clip['duration'], rng, kind)
    if qa is None:
        return None
    q, a, k = qa
    states = [tasks.state_at(clip, t) for t in times]
    if variant is None and rng.random() < CLIP_VARIANT:
        variant = rng.randrange(bank.variants)
    grids = bank.grids(states, rng, noise, variant)
    items = chat(strategy, layout(strategy, grids, times, mode, clip['duration']), q)
    ids, emb, ans = encode(tok, items, a)
    targets = aux_targets(ids, states, tok('<t0>')[-1]) if aux and mode == 'lita' and clip['kind'] == 'scene' else []
    return {'ids': ids, 'emb': emb, 'answer': ans, 'answer_text': a, 'kind': k, 'items': items, 'times': times, 'aux': targets}
