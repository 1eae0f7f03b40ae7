/**
 * Bounded, seeded fuzzing: whatever the bytes, validateGguf must either accept the file or
 * reject with a VidlmError (never a RangeError, TypeError, hang or crash), since the native
 * addon relies on it to keep garbage away from llama.cpp's asserts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { VidlmError } from '../../lib/errors.js';
import { mulberry32 } from '../../lib/fixtures/prng.js';
import { GgmlType, GgufType, GgufWriter, validateGguf, type GgufSummary } from '../../lib/gguf/index.js';

function sample(): Buffer {
  return new GgufWriter()
    .addString('general.architecture', 'llama')
    .addUint32('llama.embedding_length', 64)
    .addFloat32('llama.attention.layer_norm_rms_epsilon', 1e-5)
    .addBool('tokenizer.ggml.add_bos_token', true)
    .addArray('tokenizer.ggml.tokens', GgufType.STRING, ['<unk>', '<s>', '</s>', 'hello', '▁world'])
    .addArray('tokenizer.ggml.scores', GgufType.FLOAT32, [0, 0, 0, -1, -2])
    .addArray('tokenizer.ggml.token_type', GgufType.INT32, [2, 3, 3, 1, 1])
    .addUint64('x.u64', 123n)
    .addTensor('token_embd.weight', [8, 5], new Float32Array(40).fill(0.5), GgmlType.F16)
    .addTensor('output_norm.weight', [8], new Float32Array(8).fill(1))
    .addTensorBytes('blk.0.q', [32, 2], GgmlType.Q8_0, new Uint8Array(68))
    .toBuffer();
}

async function summarise(path: string, bytes: Buffer): Promise<GgufSummary> {
  await writeFile(path, bytes);
  return validateGguf(path);
}

/** Runs validateGguf on `bytes`; returns a description of any failure that is not a VidlmError. */
async function probe(path: string, bytes: Uint8Array): Promise<{ ok: boolean; bad?: string }> {
  await writeFile(path, bytes);
  try {
    await validateGguf(path);
    return { ok: true };
  } catch (e) {
    if (e instanceof VidlmError && e.code === 'ERR_NOT_GGUF') return { ok: false };
    return { ok: false, bad: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

t.test('every truncation of a valid file is refused with ERR_NOT_GGUF', async (t) => {
  const path = join(t.testdir(), 'f.gguf');
  const full = sample();
  const layout = await summarise(path, full);
  // A file may stop right after the last tensor's data (its final padding is optional).
  const last = layout.tensors[layout.tensors.length - 1]!;
  const minLength = last.fileOffset + last.nbytes;
  const bad: string[] = [];
  let accepted = 0;
  for (let n = 0; n < full.length; n++) {
    const r = await probe(path, full.subarray(0, n));
    if (r.bad) bad.push(`len ${n}: ${r.bad}`);
    if (r.ok) {
      accepted++;
      if (n < minLength) bad.push(`len ${n} accepted`);
    }
  }
  t.same(bad, []);
  t.ok(accepted <= full.length - minLength, `only cuts inside the final padding pass (${accepted})`);
});

t.test('random byte flips in the header never escape as non-VidlmErrors', async (t) => {
  const path = join(t.testdir(), 'f.gguf');
  const full = sample();
  const dataStart = (await summarise(path, full)).dataOffset;
  const rand = mulberry32(0xf022);
  const bad: string[] = [];
  let rejected = 0;
  const rounds = 1500;
  for (let i = 0; i < rounds; i++) {
    const b = Buffer.from(full);
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(rand() * dataStart);
      // Half the time a single bit, otherwise a random byte (often hits lengths and counts).
      b[at] = rand() < 0.5 ? b[at]! ^ (1 << Math.floor(rand() * 8)) : Math.floor(rand() * 256);
    }
    const r = await probe(path, b);
    if (r.bad) bad.push(`round ${i}: ${r.bad}`);
    if (!r.ok) rejected++;
  }
  t.same(bad, []);
  t.ok(rejected > rounds / 4, `most corruptions are caught (${rejected}/${rounds})`);
});

t.test('random garbage behind a GGUF magic and version', async (t) => {
  const path = join(t.testdir(), 'f.gguf');
  const rand = mulberry32(0x6a7b);
  const bad: string[] = [];
  for (let i = 0; i < 300; i++) {
    const b = Buffer.alloc(8 + Math.floor(rand() * 600));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
    b.write('GGUF', 0, 'latin1');
    b.writeUInt32LE(3, 4);
    // Plausible small counts so parsing gets past the header sanity check and into the KVs.
    if (b.length >= 24) {
      b.writeBigUInt64LE(BigInt(Math.floor(rand() * 4)), 8);
      b.writeBigUInt64LE(BigInt(Math.floor(rand() * 4)), 16);
    }
    const r = await probe(path, b);
    if (r.bad) bad.push(`round ${i}: ${r.bad}`);
  }
  t.same(bad, []);
});
