import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { VidlmError } from '../../lib/errors.js';
import { GgmlType, GgufType, GgufWriter, validateGguf } from '../../lib/gguf/index.js';

/** A small valid file: two KVs, an array, two tensors. Offsets below are found by searching its bytes. */
function base(): Buffer {
  return new GgufWriter()
    .addString('ka', 'value')
    .addUint32('kb', 7)
    .addArray('karr', GgufType.INT32, [1, 2, 3])
    .addTensor('ta', [4, 2], new Float32Array(8).fill(1))
    .addTensor('tb', [3], [1, 2, 3], GgmlType.F16)
    .toBuffer();
}

/** Offset of the first occurrence of a GGUF string (u64 length + bytes) with this text. */
function stringAt(buf: Buffer, text: string): number {
  const s = Buffer.alloc(8 + text.length);
  s.writeBigUInt64LE(BigInt(text.length));
  s.write(text, 8, 'latin1');
  const at = buf.indexOf(s);
  if (at < 0) throw new Error(`'${text}' not found`);
  return at;
}

/** Offset just after the GGUF string `text`: where its value type (KV) or n_dims (tensor) starts. */
const after = (buf: Buffer, text: string) => stringAt(buf, text) + 8 + text.length;

async function expectError(
  t: Test,
  dir: string,
  name: string,
  content: Buffer | string,
  code: string,
  reason?: string | RegExp,
): Promise<void> {
  const path = join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
  await writeFile(path, content);
  const err = await validateGguf(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof VidlmError, `${name}: rejects with a VidlmError`);
  if (!(err instanceof VidlmError)) return;
  t.equal(err.code, code, `${name}: ${err.message}`);
  t.equal(err.details?.path, path, `${name}: details.path`);
  if (code === 'ERR_NOT_GGUF') t.type(err.details?.offset, 'number', `${name}: details.offset`);
  if (reason instanceof RegExp) t.match(String(err.details?.reason), reason, `${name}: reason`);
  else if (reason) t.equal(err.details?.reason, reason, `${name}: reason`);
}

t.test('the base file is valid', async (t) => {
  const dir = t.testdir();
  await writeFile(join(dir, 'ok.gguf'), base());
  const s = await validateGguf(join(dir, 'ok.gguf'));
  t.same(s.tensors.map((x) => x.name), ['ta', 'tb']);
});

t.test('missing file and non-files: ERR_FILE_NOT_FOUND', async (t) => {
  const dir = t.testdir();
  await t.rejects(validateGguf(join(dir, 'nope.gguf')), { code: 'ERR_FILE_NOT_FOUND', details: { reason: 'ENOENT' } });
  await mkdir(join(dir, 'folder.gguf'));
  await t.rejects(validateGguf(join(dir, 'folder.gguf')), { code: 'ERR_FILE_NOT_FOUND', details: { reason: 'not-a-file' } });
});

t.test('not GGUF at all', async (t) => {
  const dir = t.testdir();
  await expectError(t, dir, 'empty file', Buffer.alloc(0), 'ERR_NOT_GGUF', 'bad-magic');
  await expectError(t, dir, 'text renamed', 'This is not a model\n', 'ERR_NOT_GGUF', 'bad-magic');
  await expectError(t, dir, 'html page', '<!DOCTYPE html><html>404</html>', 'ERR_NOT_GGUF', 'bad-magic');
  await expectError(t, dir, 'magic only', 'GGUF', 'ERR_NOT_GGUF', 'truncated');
  await expectError(t, dir, 'header cut', base().subarray(0, 20), 'ERR_NOT_GGUF', 'truncated');
});

t.test('versions', async (t) => {
  const dir = t.testdir();
  for (const [name, v] of [
    ['v1', 1],
    ['v4', 4],
    ['big endian v3', 0x03000000],
    ['v0', 0],
  ] as const) {
    const b = base();
    b.writeUInt32LE(v, 4);
    await expectError(t, dir, name, b, 'ERR_NOT_GGUF', 'bad-version');
  }
  const v2 = base();
  v2.writeUInt32LE(2, 4);
  await writeFile(join(dir, 'v2.gguf'), v2);
  t.equal((await validateGguf(join(dir, 'v2.gguf'))).version, 2, 'v2 is accepted');
});

t.test('wrong counts in the header', async (t) => {
  const dir = t.testdir();
  const set = (off: number, v: bigint) => {
    const b = base();
    b.writeBigUInt64LE(v, off);
    return b;
  };
  await expectError(t, dir, 'tensor count huge', set(8, 1n << 62n), 'ERR_NOT_GGUF', 'bad-count');
  await expectError(t, dir, 'kv count huge', set(16, 0xffffffffffffffffn), 'ERR_NOT_GGUF', 'bad-count');
  await expectError(t, dir, 'tensor count one too many', set(8, 3n), 'ERR_NOT_GGUF');
  await expectError(t, dir, 'tensor count one too few', set(8, 1n), 'ERR_NOT_GGUF', 'trailing-data');
  await expectError(t, dir, 'tensor count zero', set(8, 0n), 'ERR_NOT_GGUF');
  await expectError(t, dir, 'kv count one too many', set(16, 4n), 'ERR_NOT_GGUF');
  await expectError(t, dir, 'kv count one too few', set(16, 2n), 'ERR_NOT_GGUF');
});

t.test('truncation', async (t) => {
  const dir = t.testdir();
  const b = base();
  const dataStart = b.length - 64; // two tensors of <= 32 bytes, each padded to 32
  await expectError(t, dir, 'cut in tensor data', b.subarray(0, dataStart + 20), 'ERR_NOT_GGUF', 'truncated');
  await expectError(t, dir, 'cut before data', b.subarray(0, dataStart - 3), 'ERR_NOT_GGUF', 'truncated');
  await expectError(t, dir, 'cut in a key', b.subarray(0, stringAt(b, 'kb') + 9), 'ERR_NOT_GGUF', /truncated|bad-count/);
  await expectError(t, dir, 'cut in tensor infos', b.subarray(0, stringAt(b, 'tb') + 3), 'ERR_NOT_GGUF', 'truncated');
  await expectError(t, dir, 'extra bytes at the end', Buffer.concat([b, Buffer.alloc(100)]), 'ERR_NOT_GGUF', 'trailing-data');
});

t.test('corrupt metadata', async (t) => {
  const dir = t.testdir();
  let b = base();
  b.write('ka', stringAt(b, 'kb') + 8, 'latin1');
  await expectError(t, dir, 'duplicate key', b, 'ERR_NOT_GGUF', 'duplicate-key');

  b = base();
  b.writeUInt32LE(13, after(b, 'kb'));
  await expectError(t, dir, 'unknown value type', b, 'ERR_NOT_GGUF', 'bad-type');

  b = base();
  b.writeUInt32LE(GgufType.ARRAY, after(b, 'karr') + 4);
  await expectError(t, dir, 'nested array', b, 'ERR_NOT_GGUF', 'bad-type');

  b = base();
  b.writeBigUInt64LE(1n << 40n, stringAt(b, 'ka'));
  await expectError(t, dir, 'key length beyond the file', b, 'ERR_NOT_GGUF', 'bad-count');

  b = base();
  b.writeBigUInt64LE(250n, stringAt(b, 'value'));
  await expectError(t, dir, 'string value longer than the rest of the file', b, 'ERR_NOT_GGUF', 'truncated');

  b = base();
  b.writeBigUInt64LE(100n, after(b, 'karr') + 8);
  await expectError(t, dir, 'array count beyond the file', b, 'ERR_NOT_GGUF', 'truncated');

  b = base();
  b.writeUInt8(0xff, stringAt(b, 'ka') + 8);
  await expectError(t, dir, 'key not UTF-8', b, 'ERR_NOT_GGUF', 'bad-string');

  b = base();
  b.writeBigUInt64LE(0n, stringAt(b, 'ka'));
  await expectError(t, dir, 'empty key', b, 'ERR_NOT_GGUF', /bad-key|bad-type|truncated/);
});

t.test('general.alignment must be a uint32 power of two', async (t) => {
  const dir = t.testdir();
  const withKey = (add: (w: GgufWriter) => GgufWriter) => {
    const b = add(new GgufWriter()).addTensor('t', [2], [1, 2]).toBuffer();
    b.write('general.alignment', stringAt(b, 'general.alignmenX') + 8, 'latin1');
    return b;
  };
  await expectError(t, dir, 'alignment u8', withKey((w) => w.addUint8('general.alignmenX', 32)), 'ERR_NOT_GGUF', 'bad-alignment');
  await expectError(t, dir, 'alignment 48', withKey((w) => w.addUint32('general.alignmenX', 48)), 'ERR_NOT_GGUF', 'bad-alignment');
  await expectError(t, dir, 'alignment 0', withKey((w) => w.addUint32('general.alignmenX', 0)), 'ERR_NOT_GGUF', 'bad-alignment');
  // Alignment 64 on a file laid out for 32 moves the data section: the layout check catches it.
  await expectError(t, dir, 'alignment 64 on a 32-aligned file', withKey((w) => w.addUint32('general.alignmenX', 64)), 'ERR_NOT_GGUF');
});

t.test('corrupt tensor infos', async (t) => {
  const dir = t.testdir();
  let b = base();
  b.write('ta', stringAt(b, 'tb') + 8, 'latin1');
  await expectError(t, dir, 'duplicate tensor', b, 'ERR_NOT_GGUF', 'duplicate-tensor');

  b = base();
  b.writeUInt32LE(5, after(b, 'ta'));
  await expectError(t, dir, 'five dims', b, 'ERR_NOT_GGUF', 'bad-dims');

  b = base();
  b.writeBigInt64LE(-4n, after(b, 'ta') + 4);
  await expectError(t, dir, 'negative dim', b, 'ERR_NOT_GGUF', 'bad-dims');

  const typeAt = (buf: Buffer) => after(buf, 'ta') + 4 + 2 * 8; // after n_dims and two dims
  for (const [name, type] of [
    ['removed type 4', 4],
    ['type 99', 99],
    ['negative type', -1],
  ] as const) {
    b = base();
    b.writeInt32LE(type, typeAt(b));
    await expectError(t, dir, name, b, 'ERR_NOT_GGUF', 'bad-tensor-type');
  }

  b = base();
  b.writeInt32LE(GgmlType.Q8_0, typeAt(b)); // ne0 = 4 is not a multiple of Q8_0's 32
  await expectError(t, dir, 'row not a multiple of the block', b, 'ERR_NOT_GGUF', 'bad-dims');

  b = base();
  b.writeBigUInt64LE(64n, typeAt(b) + 4);
  await expectError(t, dir, 'offset out of order', b, 'ERR_NOT_GGUF', 'bad-offset');

  b = base();
  b.writeBigUInt64LE(1n << 50n, typeAt(b) + 4);
  await expectError(t, dir, 'offset beyond the file', b, 'ERR_NOT_GGUF', 'bad-offset');

  b = base();
  b.writeBigInt64LE(1000n, after(b, 'ta') + 4);
  await expectError(t, dir, 'dims larger than the data', b, 'ERR_NOT_GGUF', /truncated|bad-offset/);
});
