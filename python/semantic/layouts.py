"""The token layouts of the video-LLM papers, written for this script from docs/methods.md and
shared/reference/video-llm-methods.md, independently of vidlm's lib/assembly: a layout bug in
vidlm must show up as lost accuracy, not be learned.

A layout turns per-frame grids (T, ny, nx, d) and frame times into a user turn: a list of
('text', str) and ('emb', array (k, d)) items. `chat` wraps it in the LLaVA-1.5 (vicuna) template.
"""
import numpy as np


def round_half_even(x):
    return int(np.round(x))


def text_time(t):
    """'[{t}s]' with 1-2 decimals: 12.5 -> '12.5', 12.0 -> '12.0', 3.333 -> '3.33'."""
    s = '%.2f' % (round(t * 100) / 100)
    if s.endswith('0'):
        s = s[:-1]
    return '[%ss]' % s


def lita_index(t, duration, n=100):
    return min(max(round_half_even((n - 1) * t / duration), 0), n - 1)


def marker(t, mode, duration):
    if mode == 'none':
        return ''
    if mode == 'text':
        return text_time(t)
    return '<t%d>' % lita_index(t, duration)


def avg_pool(grid, k):
    """avg_pool2d(kernel = stride = k), floor mode: (ny, nx, d) -> (ny//k, nx//k, d)."""
    ny, nx, d = grid.shape
    py, px = ny // k, nx // k
    g = grid[:py * k, :px * k].reshape(py, k, px, k, d)
    return g.mean(axis=(1, 3))


def adaptive_pool(grid, oy, ox):
    """PyTorch AdaptiveAvgPool2d: cell i averages [floor(i*in/out), ceil((i+1)*in/out))."""
    ny, nx, d = grid.shape
    out = np.zeros((oy, ox, d), dtype=grid.dtype)
    for i in range(oy):
        y0, y1 = (i * ny) // oy, -((-(i + 1) * ny) // oy)
        for j in range(ox):
            x0, x1 = (j * nx) // ox, -((-(j + 1) * nx) // ox)
            out[i, j] = grid[y0:y1, x0:x1].mean(axis=(0, 1))
    return out


def bilinear_resize(grid, oy, ox):
    """F.interpolate(mode='bilinear', align_corners=False), no antialiasing."""
    ny, nx, d = grid.shape

    def axis(n_in, n_out):
        src = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, src - i0

    y0, y1, wy = axis(ny, oy)
    x0, x1, wx = axis(nx, ox)
    rows = grid[y0] * (1 - wy)[:, None, None] + grid[y1] * wy[:, None, None]
    return rows[:, x0] * (1 - wx)[None, :, None] + rows[:, x1] * wx[None, :, None]


def flat(grid):
    return grid.reshape(-1, grid.shape[-1])


def per_frame(grids, times, mode, duration, sep=''):
    items = []
    for i, (g, t) in enumerate(zip(grids, times)):
        items.append(('text', (sep if i else '') + marker(t, mode, duration)))
        items.append(('emb', flat(g)))
    return items


def layout(strategy, grids, times, mode, duration):
    """The video's items for one strategy (grids: (T, ny, nx, d), times in seconds, sorted)."""
    T, ny, nx, d = grids.shape
    if strategy == 'concat':  # Video-LLaVA: every token, frames joined by ' '
        return per_frame(grids, times, mode, duration, sep=' ')
    if strategy == 'slowfast':  # LITA: [fast: one mean per frame ; slow: 4 frames, 2x2 pooled]
        items = []
        for g, t in zip(grids, times):
            items += [('text', marker(t, mode, duration)), ('emb', g.reshape(-1, d).mean(axis=0, keepdims=True))]
        slow = [round_half_even(x) for x in np.linspace(0, T - 1, 4)]
        for f in slow:
            items += [('text', marker(times[f], mode, duration)), ('emb', flat(avg_pool(grids[f], 2)))]
        return items
    if strategy == 'pllava':  # adaptive avg pool to half the grid, per frame
        return per_frame([adaptive_pool(g, max(ny // 2, 1), max(nx // 2, 1)) for g in grids], times, mode, duration)
    if strategy == 'bilinear':  # LLaVA-OneVision: bilinear to ceil(n/2); no image_newline in this mmproj
        return per_frame([bilinear_resize(g, -(-ny // 2), -(-nx // 2)) for g in grids], times, mode, duration)
    if strategy == 'vcgpt':  # Video-ChatGPT: [temporal means padded to 100 ; spatial means over time]
        items = []
        for g, t in zip(grids, times):
            items += [('text', marker(t, mode, duration)), ('emb', g.reshape(-1, d).mean(axis=0, keepdims=True))]
        if T < 100:
            items.append(('emb', np.zeros((100 - T, d), dtype=grids.dtype)))
        items.append(('emb', grids.reshape(T, -1, d).mean(axis=0)))
        return items
    raise ValueError(strategy)


def merge(items):
    """Adjacent texts joined, empty texts dropped, adjacent embeddings joined."""
    out = []
    for kind, v in items:
        if kind == 'text':
            if v == '':
                continue
            if out and out[-1][0] == 'text':
                out[-1] = ('text', out[-1][1] + v)
                continue
        elif out and out[-1][0] == 'emb':
            out[-1] = ('emb', np.concatenate([out[-1][1], v]))
            continue
        out.append((kind, v))
    return out


def chat(strategy, video_items, question):
    """LLaVA-1.5 template 'USER: {content}\\nASSISTANT:'; Video-ChatGPT puts the question first."""
    if strategy == 'vcgpt':
        turn = [('text', question + '\n')] + video_items
    else:
        turn = video_items + [('text', '\n' + question)]
    return merge([('text', 'USER: ')] + turn + [('text', '\nASSISTANT:')])
