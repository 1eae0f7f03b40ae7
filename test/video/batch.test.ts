/**
 * The batch calls vidlm adds to beamcoder (scripts/beamcoder/vidlm_batch.cc), checked against
 * beamcoder's own one-packet read() and decode(), and the walker that uses them against the
 * per-packet walker (VIDLM_BATCH=0).
 */
import t from 'tap';
import { batchCalls, loadBeamcoder, type Beamcoder, type Decoder, type Demuxer, type Frame, type Packet } from '../../lib/video/ffmpeg.js';
import { openVideo } from '../../lib/video/index.js';
import { media, readCounter } from '../fixtures/media.js';

const bc: Beamcoder = await loadBeamcoder();
const calls = batchCalls(bc)!;

interface Pk { pts: number; dts: number; size: number; key: boolean }
const pk = (p: Packet): Pk => ({ pts: p.pts, dts: p.dts, size: p.size, key: !!p.flags.KEY });

async function demux(path: string): Promise<Demuxer> {
  const dm = await bc.demuxer(path);
  for (const st of dm.streams) if (st.index !== 0) st.discard = 'all';
  return dm;
}

/** Every packet of stream 0, one beamcoder read() at a time. */
async function readAll(path: string): Promise<Packet[]> {
  const dm = await demux(path);
  const out: Packet[] = [];
  for (let p = await dm.read(); p; p = await dm.read()) if (p.stream_index === 0) out.push(p);
  dm.forceClose();
  return out;
}

const decoderFor = (dm: Demuxer): Decoder => bc.decoder({ demuxer: dm, stream_index: 0, thread_count: 1 });

/** Reference decode: one packet per decode() call, skip_frame set per packet as the JS walker does. */
async function decodeOneByOne(dec: Decoder, packets: Packet[], skipBefore = -Infinity): Promise<Frame[]> {
  const out: Frame[] = [];
  for (const p of packets) {
    dec.skip_frame = p.pts < skipBefore && !p.flags.KEY ? 'nonref' : 'default';
    out.push(...(await dec.decode(p)).frames);
  }
  dec.skip_frame = 'default';
  out.push(...(await dec.flush()).frames);
  return out.filter((f) => f.width > 0);
}

const luma = (f: Frame): Buffer => Buffer.from(f.data[0]!.subarray(0, f.linesize[0]! * f.height));

t.test('the installed beamcoder has the batch calls (patch level 2)', async (tt) => {
  tt.ok((bc as unknown as { VIDLM_PATCH_LEVEL: number }).VIDLM_PATCH_LEVEL >= 2);
  tt.ok(calls, 'batchCalls() finds them');
  process.env.VIDLM_BATCH = '0';
  try {
    tt.equal(batchCalls(bc), null, 'VIDLM_BATCH=0 turns them off');
  } finally {
    delete process.env.VIDLM_BATCH;
  }
});

t.test('readPackets gives the packets read() gives, in batches, and stops at `until`', async (tt) => {
  const path = await media.long();
  const ref = (await readAll(path)).map(pk);
  tt.equal(ref.length, 600);
  const dm = await demux(path);
  const got: Pk[] = [];
  const sizes: number[] = [];
  for (;;) {
    const batch = await calls.readPackets(dm, { stream_index: 0, max: 50 });
    if (!batch.length) break;
    sizes.push(batch.length);
    got.push(...batch.map(pk));
  }
  tt.same(got, ref, 'same packets in the same order');
  tt.same(sizes, Array(12).fill(50), '600 packets in 12 calls of 50');
  dm.forceClose();
  // until: the read ends with the first packet whose timestamp reaches it (decode order)
  const until = ref[137]!.pts;
  const first = ref.findIndex((p) => p.pts >= until);
  const dm2 = await demux(path);
  const upto = await calls.readPackets(dm2, { stream_index: 0, until, max: 1000 });
  tt.same(upto.map(pk), ref.slice(0, first + 1));
  // max_bytes: a call stops once it holds that much packet data (raw video: MBs per packet)
  const bytes = ref[first + 1]!.size + ref[first + 2]!.size;
  tt.same((await calls.readPackets(dm2, { stream_index: 0, max_bytes: bytes })).map(pk), ref.slice(first + 1, first + 3));
  tt.same((await calls.readPackets(dm2, { stream_index: 0, max_bytes: 1 })).map(pk), ref.slice(first + 3, first + 4), 'at least one packet');
  dm2.forceClose();
});

t.test('decodePackets frees pictures before drop_before and returns the rest as decode() does', async (tt) => {
  const path = await media.long();
  const packets = await readAll(path);
  const refDm = await demux(path);
  const ref = await decodeOneByOne(decoderFor(refDm), packets);
  tt.equal(ref.length, 600);
  const dropBefore = ref[250]!.pts;
  const dm = await demux(path);
  const dec = decoderFor(dm);
  const frames: Frame[] = [];
  let dropped = 0;
  for (let i = 0; i < packets.length; i += 64) {
    const r = await calls.decodePackets(dec, packets.slice(i, i + 64), { drop_before: dropBefore });
    tt.equal(r.errors, 0);
    dropped += r.dropped;
    frames.push(...r.frames);
  }
  frames.push(...(await dec.flush()).frames.filter((f) => f.width > 0));
  tt.equal(dropped + frames.length, 600, 'every picture decoded, once');
  // each batch keeps the latest picture before drop_before (the caller's "last frame so far")
  const early = frames.filter((f) => f.pts < dropBefore);
  tt.ok(early.length >= 1 && early.length <= 5, `${early.length} early pictures kept, at most one per batch`);
  tt.same(frames.filter((f) => f.pts >= dropBefore).map((f) => f.pts), ref.filter((f) => f.pts >= dropBefore).map((f) => f.pts));
  const at = frames.find((f) => f.pts === dropBefore)!;
  tt.ok(luma(at).equals(luma(ref[250]!)), 'same picture as decode() gives');
  refDm.forceClose();
  dm.forceClose();
});

t.test('decodePackets skips the non-reference pictures before skip_before as skip_frame does', async (tt) => {
  const path = await media.long();
  const packets = (await readAll(path)).slice(0, 120); // two GOPs of 50, part of a third
  const skipBefore = packets.map((p) => p.pts).sort((a, b) => a - b)[90]!;
  const refDm = await demux(path);
  const ref = await decodeOneByOne(decoderFor(refDm), packets, skipBefore);
  const dm = await demux(path);
  const dec = decoderFor(dm);
  const r = await calls.decodePackets(dec, packets, { skip_before: skipBefore });
  const all = [...r.frames, ...(await dec.flush()).frames.filter((f) => f.width > 0)];
  tt.ok(ref.length < 120, `the reference skipped ${120 - ref.length} pictures`);
  tt.same(all.map((f) => f.pts), ref.map((f) => f.pts), 'the same pictures come out');
  const last = all[all.length - 1]!;
  tt.ok(luma(last).equals(luma(ref[ref.length - 1]!)), 'and the same pixels');
  refDm.forceClose();
  dm.forceClose();
});

t.test('bad arguments are errors, not crashes', async (tt) => {
  const dm = await demux(await media.long());
  const dec = decoderFor(dm);
  tt.throws(() => calls.readPackets({} as Demuxer, { stream_index: 0 }), TypeError);
  tt.throws(() => calls.readPackets(dm, {} as { stream_index: number }), TypeError);
  tt.throws(() => calls.decodePackets(dm as unknown as Decoder, [], {}), TypeError);
  tt.throws(() => calls.decodePackets(dec, [1 as unknown as Packet], {}), TypeError);
  tt.same((await calls.decodePackets(dec, [], {})).frames, [], 'no packets: no frames');
  dm.forceClose();
  await tt.rejects(calls.readPackets(dm, { stream_index: 0 }), /deleted/, 'a closed demuxer rejects');
});

t.test('batched and per-packet walks return the same frames; batched makes far fewer calls', async (tt) => {
  for (const [name, plan] of [['long', { uniform: 6 }], ['long', { fps: 3 }], ['vfr', { uniform: 10 }], ['h264', { times: [0.5, 1.7, 3.9] }], ['corrupt', { uniform: 5 }]] as const) {
    const path = await media[name]();
    const walk = async (batch: boolean) => {
      if (!batch) process.env.VIDLM_BATCH = '0';
      // one lane: with two, which lane takes which run (and so where a walk reads on instead of
      // seeking) depends on timing, and the decode counts could not be compared
      process.env.VIDLM_LANES = '1';
      try {
        const v = await openVideo(path);
        try {
          const frames = await v.sample(plan, { size: 96 });
          return { frames, stats: { ...v.stats } };
        } finally {
          await v.close();
        }
      } finally {
        delete process.env.VIDLM_BATCH;
        delete process.env.VIDLM_LANES;
      }
    };
    const a = await walk(true);
    const b = await walk(false);
    tt.same(a.frames.map((f) => [f.index, f.t]), b.frames.map((f) => [f.index, f.t]), `${name}: same indices and times`);
    tt.ok(a.frames.every((f, i) => Buffer.from(f.rgb).equals(Buffer.from(b.frames[i]!.rgb))), `${name}: same pixels`);
    if (name !== 'corrupt') tt.same(a.frames.map((f) => readCounter(f)), a.frames.map((f) => f.index), `${name}: counters match`);
    tt.equal(a.stats.framesDecoded, b.stats.framesDecoded, `${name}: same pictures decoded (${a.stats.framesDecoded})`);
    // a sparse plan reads and decodes a whole GOP prefix per call; a dense one still needs a
    // call or two per target, where the frame comes out of the decoder's reorder delay
    const factor = 'uniform' in plan && name === 'long' ? 4 : 1.5;
    tt.ok(a.stats.calls * factor < b.stats.calls, `${name}: ${a.stats.calls} calls batched, ${b.stats.calls} one by one`);
  }
});
