// The server's pure parts: prefix matching, the slot queue, request parsing, error mapping.
import t from 'tap';
import { VidlmError } from '../../lib/index.js';
import { HttpError, toOpenAIError } from '../../lib/server/errors.js';
import { keysOnly, planFrom, positions } from '../../lib/server/prefill.js';
import { sharedEntries, type Entry } from '../../lib/server/slots.js';
import { parseRequest, type ChatBody } from '../../lib/server/request.js';
import { SlotPool } from '../../lib/server/slots.js';

const block = (key: string, count: number): Entry => ({ key, count, embeddings: new Float32Array(count * 2) });

t.test('sharedEntries: equal tokens and whole blocks, never the last entry', async (t) => {
  const a: Entry[] = [1, 2, block('v#0', 64), 3, 4, 5];
  t.equal(sharedEntries(a, [1, 2, block('v#0', 64), 3, 9]), 4, 'up to the first different token');
  t.equal(sharedEntries(a, [1, 2, block('w#0', 64), 3]), 2, 'another video: the block is not shared');
  t.equal(sharedEntries(a, [1, 2, block('v#0', 32), 3]), 2, 'same key, other size: not shared');
  t.equal(sharedEntries(a, [...a]), 5, 'the same prompt keeps all but its last entry (logits come from evaluating it)');
  t.equal(sharedEntries(a, [...a, 6, 7]), 6, 'a follow-up keeps the whole held prompt');
  t.equal(sharedEntries([], [1, 2]), 0);
  t.equal(positions(a), 1 + 1 + 64 + 3);
  t.equal(positions(a, 3), 66);
});

t.test('planFrom: token runs and blocks after the shared entries', async (t) => {
  const e: Entry[] = [1, 2, block('v#0', 4), 3, 4, block('v#1', 2), 5];
  const p = planFrom(e, 1);
  const shape = (x: ReturnType<typeof planFrom>[number]) => ('embeddings' in x ? x.count : 'audio' in x ? 'clip' : [...x.tokens]);
  t.same(p.map(shape), [[2], 4, [3, 4], 2, [5]]);
  t.same(planFrom(e, 6).map(shape), [[5]]);
  // an audio clip goes to the prefill as itself, at its place (the prefill reports its positions)
  const clip = { audio: new Float32Array(8) };
  const withClip = planFrom([1, { key: 'audio:x', count: 0, audio: clip, pending: true }, 2], 0);
  t.same(withClip.map(shape), [[1], 'clip', [2]]);
  t.equal(withClip[1], clip);
  t.same(keysOnly(e).map((x) => (typeof x === 'number' ? x : 'embeddings' in x ? 'with' : x.key)), [1, 2, 'v#0', 3, 4, 'v#1', 5], 'a slot keeps keys, not embeddings');
  t.throws(() => planFrom(keysOnly(e), 0), /no embeddings/);
});

t.test('SlotPool: FIFO permits, a bounded queue, aborts leave the queue, the best slot is taken', async (t) => {
  const ctx = (n: number) => Array.from({ length: n }, () => ({}) as never);
  const pool = new SlotPool(ctx(1), 2);
  const never = new AbortController().signal;
  await pool.acquire(never);
  const order: number[] = [];
  const w1 = pool.acquire(never).then(() => order.push(1));
  const ac = new AbortController();
  const w2 = pool.acquire(ac.signal).then(() => order.push(2), (e) => { order.push(-2); return e; });
  await t.rejects(pool.acquire(never), { status: 503, code: 'server_busy', headers: { 'retry-after': '1' } });
  t.equal(pool.queued, 2);
  ac.abort(new Error('gone'));
  await w2;
  t.equal(pool.queued, 1, 'the aborted waiter left the queue');
  const w3 = pool.acquire(never).then(() => order.push(3));
  pool.release(null);
  await w1;
  pool.release(null);
  await w3;
  t.same(order, [-2, 1, 3], 'first in, first out');
  pool.release(null);
  t.equal(pool.busy, 0);

  const two = new SlotPool(ctx(2), 0);
  two.slots[1]!.held = [1, 2, 3, 4];
  await two.acquire(never);
  const got = two.take([1, 2, 3, 9]);
  t.equal(got.slot.id, 1, 'the slot holding the longer shared prefix');
  t.equal(got.shared, 3);
  await two.acquire(never);
  t.equal(two.take([1, 2]).slot.id, 0, 'the other one is idle');
  await t.rejects(two.acquire(never), { status: 503, code: 'server_busy' }, 'queue 0: no waiting');
  two.close();
  two.release(got.slot);
  await t.rejects(two.acquire(never), { status: 503, code: 'server_shutting_down' });
});

t.test('SlotPool.admit: at most parallel + queue inside; leaving twice counts once', async (t) => {
  const pool = new SlotPool(Array.from({ length: 2 }, () => ({}) as never), 1);
  const leave = [pool.admit(), pool.admit(), pool.admit()];
  t.equal(pool.admitted, 3);
  t.throws(() => pool.admit(), { status: 503, code: 'server_busy', headers: { 'retry-after': '1' } }, 'the fourth waits for no one');
  leave[0]!();
  leave[0]!();
  t.equal(pool.admitted, 2, 'a second call of the same leave() changes nothing');
  const again = pool.admit();
  t.equal(pool.admitted, 3, 'room for one more after one left');
  again();
  pool.close();
  t.throws(() => pool.admit(), { status: 503, code: 'server_shutting_down' });
});

const base: ChatBody = { messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: 'a.mp4' } }, { type: 'text', text: 'q' }] }] };

t.test('parseRequest: video options from vLLM kwargs and the vidlm object, sampling fields', async (t) => {
  t.same(parseRequest({ ...base, media_io_kwargs: { video: { num_frames: 8 } } }).video.frames, 8);
  t.same(parseRequest({ ...base, media_io_kwargs: { video: { fps: 2 } } }).video.fps, 2);
  t.same(parseRequest({ ...base, mm_processor_kwargs: { fps: 3 } }).video.fps, 3);
  const v = parseRequest({ ...base, media_io_kwargs: { video: { fps: 2 } }, vidlm: { frames: 4 } }).video;
  t.equal(v.frames, 4);
  t.equal(v.fps, undefined, 'the vidlm frame count replaces a kwargs fps');
  const g = parseRequest({ ...base, max_tokens: 9, max_completion_tokens: 7, stop: 'x', temperature: 0.5, top_p: 0.8, seed: 3 }).generate;
  t.same(g, { maxTokens: 7, temperature: 0.5, topP: 0.8, seed: 3, stop: ['x'] }, 'max_completion_tokens wins over max_tokens');
  t.same(parseRequest({ ...base, response_format: { type: 'json_object' } }).generate.jsonSchema, { type: 'object' });
  const iv = parseRequest({ messages: [{ role: 'user', content: [{ type: 'input_video', input_video: { data: 'AAAA', format: 'webm' } }] }] });
  t.same(iv.messages[0]!.parts[0], { kind: 'media', url: 'data:video/webm;base64,AAAA', param: 'messages[0].content[0].input_video.data' });
  t.equal(parseRequest({ messages: [{ role: 'developer', content: 's' }, { role: 'user', content: 'q' }] }).messages[0]!.role, 'system');
  t.throws(() => parseRequest({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }), { code: 'invalid_value' });
});

t.test('toOpenAIError: vidlm codes to statuses', async (t) => {
  const of = (code: ConstructorParameters<typeof VidlmError>[0]) => toOpenAIError(new VidlmError(code, 'm'));
  t.same([of('ERR_CONTEXT_FULL').status, of('ERR_CONTEXT_FULL').body.error.code], [400, 'context_length_exceeded']);
  for (const c of ['ERR_VIDEO_OPEN', 'ERR_VIDEO_DECODE', 'ERR_VIDEO_EMPTY', 'ERR_VIDEO_TOO_LARGE', 'ERR_VIDEO_NO_STREAM'] as const) {
    t.same([of(c).status, of(c).body.error.code, of(c).body.error.vidlm_code], [400, 'invalid_media', c]);
  }
  t.same([of('ERR_GRAMMAR').status, of('ERR_GRAMMAR').body.error.code], [400, 'invalid_response_format']);
  t.equal(of('ERR_DECODE').status, 500);
  t.equal(toOpenAIError(new HttpError(401, 'invalid_api_key', 'no')).body.error.type, 'authentication_error');
  t.equal(toOpenAIError(new Error('boom')).status, 500);
});
