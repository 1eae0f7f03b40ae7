/**
 * The page of `vidlm serve`: pick a video (the media folder's listing, or a dropped file sent as a
 * data URL within --max-media-mb), set the sampling, see the media budget before asking, ask with
 * the answer streamed, follow up in the same conversation (the server's KV reuse shows as
 * cached_tokens), localize an event, and watch a file window by window or a live source the
 * server's operator named.
 */
import { ApiError, call, fileSource, setKey, streamChat, type Completion } from './api.js';
import { $, h, secs } from './dom.js';
import { Timeline } from './timeline.js';
import { RollingTimeline, runLive } from './live.js';
import { runWatch } from './watch.js';

interface Info { model: string; architecture: string; vision: boolean; audio: boolean; mrope: boolean; model_time: boolean; context_size: number; media_path: boolean; max_media_bytes: number; max_frames: number; api_key: boolean; live: string[] }
interface Listed { path: string; bytes: number; kind: string; tooLarge: boolean }
type Message = { role: 'user' | 'assistant'; content: string | object[] };

const player = $<HTMLVideoElement>('player');
const timeline = new Timeline(player);
const form = $<HTMLFormElement>('options');
const question = $<HTMLTextAreaElement>('question');
const log = $('log');
let info: Info | null = null;
let source: { url: string; label: string } | null = null;
let conversation: Message[] = [];
let running: AbortController | null = null;

function showError(e: unknown): void {
  const box = $('error');
  if (e instanceof DOMException && e.name === 'AbortError') return;
  const err = e instanceof ApiError ? e : new ApiError(0, 'client_error', String((e as Error)?.message ?? e));
  box.replaceChildren(h('strong', { class: 'code' }, err.code), err.vidlmCode ? ` (${err.vidlmCode})` : '', ': ', err.message, err.param ? h('small', {}, ` — ${err.param}`) : '');
  box.dataset.code = err.code;
  box.hidden = false;
}
const clearError = () => { $('error').hidden = true; delete $('error').dataset.code; };

/** Localizing needs time in the prompt: the model's own where the server's default gives it, text times where the form says none. */
function localizeTime(v: Record<string, unknown>): unknown {
  const modelTime = info?.model_time === true && (v.strategy === 'auto' || v.strategy === 'native');
  if (v.timeTokens === 'none' || (v.timeTokens === undefined && !modelTime)) return 'text';
  return v.timeTokens;
}

/** The request's `vidlm` object from the form. */
function options(): Record<string, unknown> {
  const f = new FormData(form);
  // an empty choice leaves timeTokens to the server: the model's own time on Qwen-VL, none elsewhere
  const v: Record<string, unknown> = { strategy: f.get('strategy'), timeTokens: f.get('timeTokens') || undefined };
  const n = (k: string) => { const s = String(f.get(k) ?? '').trim(); return s === '' ? undefined : Number(s); };
  if (f.get('sampling') === 'fps') v.fps = n('fps'); else v.frames = n('frames');
  const a = n('segStart'), b = n('segEnd');
  if (a !== undefined || b !== undefined) v.segment = [a ?? 0, b ?? Math.max(timeline.duration, (a ?? 0) + 1)];
  const audio = f.get('audio');
  if (audio && audio !== 'off') { v.audio = audio; const w = n('audioWindow'); if (w !== undefined) v.audioWindow = w; }
  const subs = String(f.get('subtitles') ?? '').trim();
  if (subs === 'on') v.subtitles = true;
  else if (/^\d+$/.test(subs)) v.subtitles = Number(subs);
  else if (subs && subs !== 'off') v.subtitles = subs;
  for (const k of Object.keys(v)) if (v[k] === undefined) delete v[k];
  return v;
}
const generation = () => {
  const f = new FormData(form);
  return { max_tokens: Number(f.get('maxTokens') || 128), temperature: Number(f.get('temperature') || 0) };
};

let budgetTimer: ReturnType<typeof setTimeout> | undefined;
let budgetCall = 0;
function refreshBudget(): void {
  clearTimeout(budgetTimer);
  budgetTimer = setTimeout(() => void budget(), 250);
}
interface Budget { fits: boolean; strategy: string; frames?: number; imageChunks?: number; frameTokens?: number; audioTokens?: number | null; audioChunks?: number; cues?: number; cueTokens?: number; total?: number; budget?: number; contextSize: number; reason: string | null; error: { code: string; message: string } | null }
async function budget(): Promise<void> {
  const box = $('budget');
  if (!source) { box.replaceChildren('Choose a video to see what a question costs.'); box.removeAttribute('data-fits'); return; }
  const id = ++budgetCall;
  box.setAttribute('aria-busy', 'true');
  try {
    const b = await call<Budget>('/ui/api/budget', { url: source.url, vidlm: options() });
    if (id !== budgetCall) return;
    box.dataset.fits = String(b.fits);
    box.dataset.total = String(b.total ?? '');
    const row = (k: string, v: string) => [h('dt', {}, k), h('dd', {}, v)];
    const dl = h('dl', {}, ...(b.frames !== undefined ? [
      ...row('strategy', b.strategy), ...row('frames', `${b.frames} (${b.imageChunks} image chunks)`), ...row('visual tokens', String(b.frameTokens)),
      ...row('audio', b.audioChunks ? `${b.audioChunks} clips, ${b.audioTokens ?? '?'} tokens` : '—'), ...row('subtitle cues', b.cues ? `${b.cues} cues, ${b.cueTokens} tokens` : '—'),
      ...row('total', `${b.total} of ${b.budget} (context ${b.contextSize})`),
    ] : row('strategy', b.strategy)));
    const verdict = h('p', { class: b.fits ? 'fits' : 'nofit' }, b.fits ? '✓ fits' : '✗ does not fit', b.error ? h('span', { class: 'code' }, ` ${b.error.code}`) : '', b.reason ? `: ${b.reason}` : '');
    box.replaceChildren(dl, verdict);
  } catch (e) {
    if (id !== budgetCall) return;
    const err = e as ApiError;
    box.dataset.fits = 'false';
    box.replaceChildren(h('p', { class: 'nofit' }, h('span', { class: 'code' }, err.code ?? 'error'), `: ${err.message}`));
  } finally {
    if (id === budgetCall) box.removeAttribute('aria-busy');
  }
}

function newConversation(): void {
  conversation = [];
  log.replaceChildren();
}

async function setSource(url: string, label: string, play: string): Promise<void> {
  source = { url, label };
  player.src = play;
  timeline.reset(play);
  $('source').textContent = label;
  newConversation();
  clearError();
  refreshBudget();
}

function turnView(kind: string, text: string): { el: HTMLElement; answer: HTMLElement; meta: HTMLElement } {
  const answer = h('p', { class: 'answer', 'aria-live': 'polite' });
  const meta = h('p', { class: 'meta' });
  const el = h('article', { class: `turn ${kind}` }, h('p', { class: 'q' }, h('b', {}, kind === 'ask' ? 'Q ' : 'Localize '), text), answer, meta);
  log.append(el);
  el.scrollIntoView({ block: 'nearest' });
  return { el, answer, meta };
}

function report(r: Completion, view: { el: HTMLElement; meta: HTMLElement }): void {
  const m = r.vidlm?.media[0];
  const u = r.usage;
  const cached = u?.prompt_tokens_details.cached_tokens ?? 0;
  view.el.dataset.cached = String(cached);
  const t = r.vidlm?.timings ?? {};
  const ms = (k: string) => `${Math.round(t[k] ?? 0)} ms`;
  view.meta.replaceChildren(
    h('span', {}, `prompt ${u?.prompt_tokens ?? '?'} tokens, `), h('span', { class: 'cached' }, `cached_tokens ${cached}`), h('span', {}, `, answer ${u?.completion_tokens ?? '?'} tokens`),
    h('br'), h('span', { class: 'timings' }, `queue ${ms('queue_ms')} · decode+encode ${ms('prepare_ms')} · prefill ${ms('prefill_ms')} · first token ${ms('first_token_ms')} · generate ${ms('generate_ms')}`),
    ...(m ? [h('br'), h('span', {}, `${m.strategy}: ${m.frames.length} frames, ${m.visual_tokens} visual tokens (${m.encoded} encoded, ${m.cached} from cache)${m.warnings ? ` — ${m.warnings.join('; ')}` : ''}`)] : []),
  );
  if (m) {
    timeline.duration = m.duration;
    timeline.frames(m.frames, m.frames.length > 0 ? m.visual_tokens / m.frames.length : 0, m.strategy === 'concat');
  }
}

async function busy(fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
  if (running) return;
  clearError();
  running = new AbortController();
  document.body.dataset.busy = 'true';
  try {
    await fn(running.signal);
  } catch (e) {
    showError(e);
  } finally {
    running = null;
    delete document.body.dataset.busy;
  }
}

async function ask(): Promise<void> {
  const q = question.value.trim();
  if (!source) return showError(new ApiError(0, 'no_video', 'choose a video first'));
  if (!q) return showError(new ApiError(0, 'no_question', 'write a question first'));
  await busy(async (signal) => {
    const turn: Message = conversation.length === 0
      ? { role: 'user', content: [{ type: 'video_url', video_url: { url: source!.url } }, { type: 'text', text: q }] }
      : { role: 'user', content: q };
    const view = turnView('ask', q);
    try {
      const r = await streamChat({ messages: [...conversation, turn], vidlm: options(), ...generation() }, (p) => { view.answer.textContent += p; }, signal);
      conversation.push(turn, { role: 'assistant', content: r.text });
      view.el.dataset.done = 'true';
      report(r, view);
      question.value = '';
    } catch (e) {
      view.el.classList.add('failed');
      throw e;
    }
  });
}

async function localize(): Promise<void> {
  const q = question.value.trim();
  if (!source) return showError(new ApiError(0, 'no_video', 'choose a video first'));
  if (!q) return showError(new ApiError(0, 'no_question', 'describe the event to localize first'));
  await busy(async (signal) => {
    const view = turnView('localize', q);
    const v = options();
    const top = Math.max(1, Math.ceil(timeline.duration || player.duration || 3600));
    const sec = { type: 'integer', minimum: 0, maximum: top };
    const r = await streamChat({
      messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: source!.url } }, { type: 'text', text: `When does this happen in the video: ${q}? Answer with its start and end time in seconds.` }] }],
      vidlm: { ...v, timeTokens: localizeTime(v) },
      response_format: { type: 'json_schema', json_schema: { name: 'span', schema: { type: 'object', properties: { start: sec, end: sec }, required: ['start', 'end'], additionalProperties: false } } },
      temperature: 0, max_tokens: 48,
    }, (p) => { view.answer.textContent += p; }, signal);
    view.el.dataset.done = 'true';
    report(r, view);
    let span: { start: number; end: number };
    try { span = JSON.parse(r.text); } catch { throw new ApiError(0, 'unparsed_span', `the answer is not a span: ${r.text.slice(0, 100)}`); }
    const [a, b] = [Math.min(span.start, span.end), Math.max(span.start, span.end)];
    timeline.span(a, b, q);
    view.meta.prepend(h('b', { class: 'span-text' }, `span ${secs(a)} – ${secs(b)} `));
  });
}

async function watch(): Promise<void> {
  const f = new FormData($<HTMLFormElement>('watchform'));
  const every = Number(f.get('every') || 2), window = Number(f.get('window') || 4);
  const live = String(f.get('source') ?? '');
  $('live').hidden = !live;
  if (live) {
    // a live source the server names: windows as they come, on a rolling timeline
    const bar = new RollingTimeline($('livebar'), Math.max(30, 10 * every), $('livefrom'), $('liveto'));
    await busy((signal) => runLive({
      name: live, every, window, when: String(f.get('when') ?? '').trim(), prompt: 'Describe what happens.', vidlm: options(), maxTokens: generation().max_tokens,
    }, $('windows'), bar, $('livestatus'), signal));
    return;
  }
  if (!source) return showError(new ApiError(0, 'no_video', 'choose a video first'));
  await busy((signal) => runWatch({
    url: source!.url, duration: timeline.duration || player.duration, every, window,
    when: String(f.get('when') ?? '').trim(), prompt: 'Describe what happens.', vidlm: options(),
  }, timeline, $('windows'), signal));
}

function readFile(file: File): void {
  if (info && file.size > info.max_media_bytes) {
    showError(new ApiError(413, 'media_too_large', `${file.name} is ${file.size} bytes; this server takes at most ${info.max_media_bytes} (--max-media-mb)`));
    return;
  }
  const reader = new FileReader();
  $<HTMLSelectElement>('media').value = '';
  reader.onload = () => void setSource(String(reader.result), `${file.name} (dropped)`, URL.createObjectURL(file));
  reader.readAsDataURL(file);
}

async function init(): Promise<void> {
  const key = $<HTMLInputElement>('key');
  key.value = sessionStorage.getItem('vidlm-key') ?? '';
  key.addEventListener('change', () => { setKey(key.value); void start(); });
  player.addEventListener('loadedmetadata', () => { if (Number.isFinite(player.duration)) timeline.duration = player.duration; });
  form.addEventListener('input', refreshBudget);
  form.addEventListener('change', refreshBudget);
  $<HTMLFormElement>('askform').addEventListener('submit', (e) => { e.preventDefault(); void ask(); });
  question.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); void ask(); } });
  $('localize').addEventListener('click', () => void localize());
  $('new').addEventListener('click', newConversation);
  $('stop').addEventListener('click', () => running?.abort());
  $('watchstop').addEventListener('click', () => running?.abort());
  $<HTMLFormElement>('watchform').addEventListener('submit', (e) => { e.preventDefault(); void watch(); });
  const list = $<HTMLSelectElement>('media');
  list.addEventListener('change', () => {
    if (!list.value) return;
    fileSource(list.value).then((play) => setSource(list.value, list.value, play), showError);
  });
  const drop = $('drop');
  const file = $<HTMLInputElement>('file');
  file.addEventListener('change', () => { if (file.files?.[0]) readFile(file.files[0]); });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer?.files[0]; if (f) readFile(f); });
  await start();
}

/** What needs the API (and its key): the server's limits and the media folder. */
async function start(): Promise<void> {
  try {
    info = await call<Info>('/ui/api/info');
    $('model').textContent = `${info.model} · ${info.architecture} · context ${info.context_size}`;
    const strategy = form.elements.namedItem('strategy') as HTMLSelectElement;
    // every pooled method runs on M-RoPE models too; native is offered where it is the model's own path
    for (const o of [...strategy.options]) o.disabled = !info.mrope && o.value === 'native';
    for (const o of [...(form.elements.namedItem('timeTokens') as HTMLSelectElement).options]) o.disabled = !info.model_time && o.value === 'model';
    (form.elements.namedItem('audio') as HTMLSelectElement).disabled = !info.audio;
    $('watchsource').replaceChildren(h('option', { value: '' }, 'the video above'), ...info.live.map((name) => h('option', { value: name }, `live: ${name}`)));
    const listing = await call<{ media_path: boolean; files: Listed[] }>('/ui/api/media');
    const list = $<HTMLSelectElement>('media');
    list.replaceChildren(h('option', { value: '' }, listing.media_path ? '— choose a file —' : 'no --media-path: drop a file'),
      ...listing.files.filter((f) => f.kind !== 'subtitles').map((f) => { const o = h('option', { value: f.path }, `${f.path} (${(f.bytes / 1e6).toFixed(1)} MB)`); o.disabled = f.tooLarge; return o; }));
    clearError();
  } catch (e) {
    showError(e);
  }
}

void init();
