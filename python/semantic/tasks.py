"""Synthetic clips with known answers, deterministic from a seed.

A clip is a timeline of visual *states* (background colour, whether the white square is shown,
or a white flash over the whole frame). The training script never sees pixels: each state's frame
embeddings come from the frozen vision tower (a bank the TypeScript side encodes through vidlm's
addon, several variants per state: drawn directly and decoded from H.264 / VP9 files). The held-out
clips are the same specs rendered into real video files with the ffmpeg program.
"""
import math
import random

COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'cyan']
N_STATES = len(COLOURS) * 2 + 1
FLASH = N_STATES - 1

Q_START = 'What colour is the background at the start?'
Q_END = 'What colour is the background at the end?'
Q_WHEN = 'When does the white square appear?'
Q_COUNT = 'How many times does the screen flash?'


def state_id(colour, square):
    return colour * 2 + (1 if square else 0)


def state_at(clip, t):
    for s, e in clip['flashes']:
        if s <= t < e:
            return FLASH
    colour = clip['segments'][-1][2]
    for s, e, c in clip['segments']:
        if s <= t < e:
            colour = c
            break
    obj = clip['object']
    return state_id(colour, obj is not None and obj[0] <= t < obj[1])


def make_clip(rng, kind, duration=None, fps=None):
    """kind 'scene': 1-3 colour segments and a square shown once; 'flash': one colour, 1-3 flashes."""
    d = duration if duration is not None else round(rng.uniform(5, 120), 1)
    fps = fps if fps is not None else rng.choice([10, 15, 25, 30])
    if kind == 'scene':
        n_seg = rng.choice([1, 1, 2, 2, 3])
        cuts = sorted(rng.uniform(0.15, 0.85) * d for _ in range(n_seg - 1))
        bounds = [0.0] + [round(c, 2) for c in cuts] + [d]
        colours = []
        for _ in range(n_seg):
            c = rng.randrange(len(COLOURS))
            while colours and c == colours[-1]:
                c = rng.randrange(len(COLOURS))
            colours.append(c)
        segments = [(bounds[i], bounds[i + 1], colours[i]) for i in range(n_seg)]
        length = rng.uniform(0.2, 0.5) * d
        # the square may cover the clip's first or last moments (about one clip in ten at each end): a sampling
        # rule whose first or last frame is not at 0 or the end (PLLaVA's segment middles) then shows it there,
        # and the start / end colour must be read beside it
        start = rng.uniform(-0.1 * d, 1.1 * d - length)
        obj = (round(max(start, 0.0), 2), round(min(start + length, d), 2))
        return {'kind': kind, 'duration': d, 'fps': fps, 'segments': segments, 'object': obj, 'flashes': []}
    n = rng.choice([1, 2, 3])
    # flashes and the gaps around them: units of 1-1.6 over at most 7 pieces, so each is >= d/11 and a
    # 16-frame plan (a frame every d/15) sees every flash and every gap
    units = [rng.uniform(1, 1.6) for _ in range(2 * n + 1)]
    scale = d / sum(units)
    t, flashes = 0.0, []
    for i, u in enumerate(units):
        if i % 2 == 1:
            flashes.append((round(t, 2), round(t + u * scale, 2)))
        t += u * scale
    return {'kind': kind, 'duration': d, 'fps': fps, 'segments': [(0.0, d, rng.randrange(len(COLOURS)))], 'object': None, 'flashes': flashes}


def sample_times(clip, n_frames, rule='linspace'):
    """Frame times of a uniform plan over the clip's frame grid: numpy linspace(0, n-1, N), truncated or rounded."""
    n = max(1, int(math.floor(clip['duration'] * clip['fps'] + 1e-9)))
    if n_frames == 1:
        idx = [0]
    else:
        step = (n - 1) / (n_frames - 1)
        if rule == 'round':
            idx = [round(i * step) for i in range(n_frames)]  # Python's round is half to even, as numpy's
        else:
            idx = [int(i * step) for i in range(n_frames)]
        idx[-1] = n - 1
    return [i / clip['fps'] for i in idx]


def method_times(clip, strategy, n_frames):
    """Frame times by each method's own index rule, as vidlm samples them (docs/methods.md, the sampling
    table): PLLaVA's segment middles int(seg/2 + round(seg*i)), Video-ChatGPT's
    (round(seg*i) + round(seg*(i+1))) // 2 with seg = (n-1)/N, LITA's round(linspace), else linspace."""
    if strategy == 'slowfast':
        return sample_times(clip, n_frames, 'round')
    if strategy not in ('pllava', 'vcgpt'):
        return sample_times(clip, n_frames, 'linspace')
    nf = max(1, int(math.floor(clip['duration'] * clip['fps'] + 1e-9)))
    m = min(nf, n_frames)
    seg = (nf - 1) / m
    if strategy == 'pllava':
        idx = [int(seg / 2 + round(seg * i)) for i in range(m)]
    else:
        idx = [(round(seg * i) + round(seg * (i + 1))) // 2 for i in range(m)]
    return [i / clip['fps'] for i in idx]


def runs(flags):
    out, start = [], None
    for i, f in enumerate(flags + [False]):
        if f and start is None:
            start = i
        if not f and start is not None:
            out.append((start, i - 1))
            start = None
    return out
