// The process's shared budget of compute threads, on a machine given by hand.
import t from 'tap';
import { ComputeBudget, type SystemView } from '../../lib/threads/index.js';

const fixed = (v: Partial<SystemView>) => async (): Promise<SystemView> => ({ cores: 2, quota: null, load1: 0, busy: 0, ...v });

t.test('one call takes the budget; a second splits it and the first follows', async (t) => {
  const b = new ComputeBudget(fixed({ cores: 4 }));
  const seenA: number[] = [], seenB: number[] = [];
  const a = await b.acquire((n) => seenA.push(n));
  t.same(seenA, [4], 'alone on 4 free cores: 4 threads');
  const c = await b.acquire((n) => seenB.push(n));
  t.same(seenA, [4, 2], 'the running call is told to go down to 2');
  t.same(seenB, [2]);
  t.equal(b.stats().inUse, 4);
  c.release();
  t.same(seenA, [4, 2, 4], 'and back up when the other ends');
  a.release();
  t.equal(b.stats().inUse, 0);
  t.equal(b.stats().peakInUse, 4, 'never more than the budget at once');
});

t.test('as many calls as threads: the next one waits for a lease to end', async (t) => {
  const b = new ComputeBudget(fixed({ busy: 2 })); // a hog on both cores: budget 1
  const first = await b.acquire(() => {});
  t.equal(first.threads, 1);
  let second: { threads: number; release(): void } | undefined;
  const waiting = b.acquire(() => {}).then((l) => (second = l));
  await new Promise((r) => setTimeout(r, 20));
  t.equal(second, undefined, 'still waiting while the first holds the only thread');
  first.release();
  await waiting;
  t.equal(second!.threads, 1);
  second!.release();
  t.equal(b.stats().peakInUse, 1);
});

t.test('a waiting call can be aborted', async (t) => {
  const b = new ComputeBudget(fixed({ busy: 2 }));
  const held = await b.acquire(() => {});
  const ac = new AbortController();
  const p = b.acquire(() => {}, ac.signal);
  ac.abort();
  await t.rejects(p, { code: 'ERR_ABORTED' });
  held.release();
  t.equal(b.stats().leases, 0);
});

t.test('a disposed handle does not break the others', async (t) => {
  const b = new ComputeBudget(fixed({ cores: 4 }));
  const a = await b.acquire(() => { throw new Error('disposed'); });
  const c = await b.acquire(() => {});
  t.equal(c.threads, 2);
  c.release();
  a.release();
  t.equal(b.stats().leases, 0);
});

t.test('decoding leases: counted with compute leases, reading the machine at most once a second', async (t) => {
  let reads = 0;
  const b = new ComputeBudget(async () => { reads++; return { cores: 2, quota: null, load1: 0, busy: 0 }; });
  t.equal(await b.free(), 2, 'nothing leased: the free threads are the budget');
  t.equal(reads, 1);
  const seen: number[] = [];
  const enc = await b.acquire((n) => seen.push(n));
  t.equal(reads, 2, 'a compute call reads the machine');
  t.equal(await b.free(), 1, 'a decoder opened now gets what the compute call leaves');
  for (let i = 0; i < 5; i++) {
    const frame = await b.acquire(() => {}, undefined, 'decode');
    t.equal(frame.threads, 1);
    t.equal(b.stats().inUse, 2, 'the decoding call holds its thread beside the compute call');
    frame.release();
  }
  t.equal(reads, 3, 'five decoding calls within a second: no new reading');
  t.same(seen, [2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2], 'the compute call goes down to its share while a frame decodes, and back up');
  t.same(b.stats().decodeGrants, [1, 1, 1, 1, 1]);
  t.same(b.stats().grants, [2], 'compute grants are listed apart');
  enc.release();
});

t.test('beside a hog, decoding calls fill the cores; a compute call takes the free one without waiting for them, and waits for other compute calls', async (t) => {
  const b = new ComputeBudget(fixed({ busy: 2 })); // budget 1, capacity 2
  t.equal(await b.free(), 2, 'a decoder opened beside the hog starts both cores\' threads');
  const lane1 = await b.acquire(() => {}, undefined, 'decode');
  const lane2 = await b.acquire(() => {}, undefined, 'decode');
  t.equal(b.stats().leases, 2, 'two decoding lanes at once on one free core: they sleep, not spin');
  let third: { release(): void } | undefined;
  const lane3 = b.acquire(() => {}, undefined, 'decode').then((l) => (third = l));
  // a decoding lane can wait on the encoder (a full queue), so a compute call never waits for decoding leases
  const enc = await b.acquire(() => {});
  t.equal(enc.threads, 1, 'the compute call runs at once, on the one free core');
  await new Promise((r) => setTimeout(r, 80));
  t.equal(third, undefined, 'no more decoding calls than cores');
  let enc2: { threads: number; release(): void } | undefined;
  const compute2 = b.acquire(() => {}).then((l) => (enc2 = l));
  await new Promise((r) => setTimeout(r, 80));
  t.equal(enc2, undefined, 'a second compute call waits for the first: the budget (1) is compute\'s');
  enc.release();
  await compute2;
  t.equal(enc2!.threads, 1);
  t.equal(b.stats().peakComputeInUse, 1, 'compute never above the budget');
  enc2!.release();
  lane1.release();
  lane2.release();
  await lane3;
  third!.release();
  t.equal(b.stats().leases, 0);
});
