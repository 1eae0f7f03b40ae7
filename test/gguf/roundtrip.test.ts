import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  GgmlType,
  GgufType,
  GgufWriter,
  f16BitsToF32,
  summaryKv,
  tensorNbytes,
  validateGguf,
  type GgufSummary,
} from '../../lib/gguf/index.js';

async function roundTrip(w: GgufWriter, dir: string, name = 'x.gguf'): Promise<{ s: GgufSummary; bytes: Buffer }> {
  const path = join(dir, name);
  await w.write(path);
  return { s: await validateGguf(path), bytes: await readFile(path) };
}

function everyKvType(w: GgufWriter): GgufWriter {
  return w
    .addUint8('s.u8', 255)
    .addInt8('s.i8', -128)
    .addUint16('s.u16', 65535)
    .addInt16('s.i16', -32768)
    .addUint32('s.u32', 4294967295)
    .addInt32('s.i32', -2147483648)
    .addUint64('s.u64', 18446744073709551615n)
    .addInt64('s.i64', -9223372036854775808n)
    .addFloat32('s.f32', 0.25)
    .addFloat64('s.f64', Math.PI)
    .addBool('s.bool.t', true)
    .addBool('s.bool.f', false)
    .addString('s.str', 'héllo ✓ \ufeffbom')
    .addString('s.empty', '')
    .addArray('a.u8', GgufType.UINT8, [0, 1, 255])
    .addArray('a.i8', GgufType.INT8, [-128, 0, 127])
    .addArray('a.u16', GgufType.UINT16, [0, 65535])
    .addArray('a.i16', GgufType.INT16, [-32768, 32767])
    .addArray('a.u32', GgufType.UINT32, [0, 4294967295])
    .addArray('a.i32', GgufType.INT32, new Int32Array([-5, 6]))
    .addArray('a.u64', GgufType.UINT64, [0n, 18446744073709551615n])
    .addArray('a.i64', GgufType.INT64, [-1n, 9223372036854775807n])
    .addArray('a.f32', GgufType.FLOAT32, new Float32Array([1.5, -0.125]))
    .addArray('a.f64', GgufType.FLOAT64, [Math.E, -1e300])
    .addArray('a.bool', GgufType.BOOL, [true, false, true])
    .addArray('a.str', GgufType.STRING, ['a', '', 'ünï', '\ufeff'])
    .addArray('a.empty', GgufType.FLOAT32, []);
}

t.test('every KV type round-trips with its exact type and value', async (t) => {
  const { s } = await roundTrip(everyKvType(new GgufWriter()), t.testdir());
  t.equal(s.version, 3);
  t.equal(s.alignment, 32);
  t.equal(s.tensors.length, 0);
  const expect: Record<string, [unknown, unknown]> = {
    's.u8': [{ type: GgufType.UINT8 }, 255],
    's.i8': [{ type: GgufType.INT8 }, -128],
    's.u16': [{ type: GgufType.UINT16 }, 65535],
    's.i16': [{ type: GgufType.INT16 }, -32768],
    's.u32': [{ type: GgufType.UINT32 }, 4294967295],
    's.i32': [{ type: GgufType.INT32 }, -2147483648],
    's.u64': [{ type: GgufType.UINT64 }, 18446744073709551615n],
    's.i64': [{ type: GgufType.INT64 }, -9223372036854775808n],
    's.f32': [{ type: GgufType.FLOAT32 }, 0.25],
    's.f64': [{ type: GgufType.FLOAT64 }, Math.PI],
    's.bool.t': [{ type: GgufType.BOOL }, true],
    's.bool.f': [{ type: GgufType.BOOL }, false],
    's.str': [{ type: GgufType.STRING }, 'héllo ✓ \ufeffbom'],
    's.empty': [{ type: GgufType.STRING }, ''],
  };
  for (const [key, [type, value]] of Object.entries(expect)) {
    t.same(s.kvTypes.get(key), type, `${key} type`);
    t.equal(s.kv.get(key), value, `${key} value`);
  }
  const arrays: Record<string, [GgufType, unknown[], string]> = {
    'a.u8': [GgufType.UINT8, [0, 1, 255], 'Uint8Array'],
    'a.i8': [GgufType.INT8, [-128, 0, 127], 'Int8Array'],
    'a.u16': [GgufType.UINT16, [0, 65535], 'Uint16Array'],
    'a.i16': [GgufType.INT16, [-32768, 32767], 'Int16Array'],
    'a.u32': [GgufType.UINT32, [0, 4294967295], 'Uint32Array'],
    'a.i32': [GgufType.INT32, [-5, 6], 'Int32Array'],
    'a.u64': [GgufType.UINT64, [0n, 18446744073709551615n], 'BigUint64Array'],
    'a.i64': [GgufType.INT64, [-1n, 9223372036854775807n], 'BigInt64Array'],
    'a.f32': [GgufType.FLOAT32, [1.5, -0.125], 'Float32Array'],
    'a.f64': [GgufType.FLOAT64, [Math.E, -1e300], 'Float64Array'],
    'a.bool': [GgufType.BOOL, [true, false, true], 'Array'],
    'a.str': [GgufType.STRING, ['a', '', 'ünï', '\ufeff'], 'Array'],
    'a.empty': [GgufType.FLOAT32, [], 'Float32Array'],
  };
  for (const [key, [itemType, values, ctor]] of Object.entries(arrays)) {
    t.same(s.kvTypes.get(key), { type: GgufType.ARRAY, itemType }, `${key} type`);
    const v = s.kv.get(key) as ArrayLike<unknown>;
    t.equal(v.constructor.name, ctor, `${key} container`);
    t.same(Array.from(v), values, `${key} values`);
  }
});

t.test('copying every entry of a summary reproduces the file byte for byte', async (t) => {
  const dir = t.testdir();
  const first = await roundTrip(everyKvType(new GgufWriter()).addTensor('w', [2], [1, 2]), dir, 'a.gguf');
  const copy = new GgufWriter();
  for (const key of first.s.kv.keys()) copy.addKv(key, summaryKv(first.s, key)!);
  copy.addTensor('w', [2], [1, 2]);
  const second = await roundTrip(copy, dir, 'b.gguf');
  t.ok(second.bytes.equals(first.bytes));
});

t.test('tensors: F32, F16 and raw bytes, with data at aligned offsets', async (t) => {
  const f32 = new Float32Array([1, -2, 3.5, 0.1, 1e-8, 65519]);
  const w = new GgufWriter()
    .addString('general.architecture', 'test')
    .addTensor('t.f32', [3, 2], f32)
    .addTensor('t.f16', [3, 2], f32, GgmlType.F16)
    .addTensorBytes('t.q8', [32, 2], GgmlType.Q8_0, new Uint8Array(68).fill(7))
    .addTensor('t.4d', [2, 1, 3, 2], new Float32Array(12).fill(0.5));
  const { s, bytes } = await roundTrip(w, t.testdir());
  t.same(
    s.tensors.map((x) => [x.name, x.typeName, x.dims, x.offset, x.nbytes]),
    [
      ['t.f32', 'f32', [3, 2], 0, 24],
      ['t.f16', 'f16', [3, 2], 32, 12],
      ['t.q8', 'q8_0', [32, 2], 64, 68],
      ['t.4d', 'f32', [2, 1, 3, 2], 160, 48],
    ],
  );
  t.equal(s.dataOffset % 32, 0);
  t.equal(s.fileSize, s.dataOffset + 160 + 64, 'last tensor padded too');
  const at = (name: string) => s.tensors.find((x) => x.name === name)!.fileOffset;
  t.same(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + at('t.f32'), bytes.byteOffset + at('t.f32') + 24))), Array.from(f32));
  const half = Array.from({ length: 6 }, (_, i) => bytes.readUInt16LE(at('t.f16') + 2 * i));
  // IEEE half bits worked out by hand: 0.1 rounds to 0x2e66, 1e-8 underflows to 0, 65519 rounds down to 65504
  t.same(half, [0x3c00, 0xc000, 0x4300, 0x2e66, 0x0000, 0x7bff]);
  t.same(half.map(f16BitsToF32), [1, -2, 3.5, 0.0999755859375, 0, 65504]);
  t.equal(bytes[at('t.q8')], 7);
  t.same(Array.from(bytes.subarray(at('t.f16') + 12, at('t.q8'))), new Array(20).fill(0), 'padding is zeros');
});

t.test('custom alignment is written as general.alignment and honoured', async (t) => {
  const w = new GgufWriter({ alignment: 64 }).addTensor('a', [3], [1, 2, 3]).addTensor('b', [5], [1, 2, 3, 4, 5]);
  const { s } = await roundTrip(w, t.testdir());
  t.equal(s.alignment, 64);
  t.same(s.kvTypes.get('general.alignment'), { type: GgufType.UINT32 });
  t.equal(s.dataOffset % 64, 0);
  t.same(s.tensors.map((x) => x.offset), [0, 64]);
  t.equal(s.fileSize, s.dataOffset + 128);
});

t.test('write() and toBuffer() agree', async (t) => {
  const dir = t.testdir();
  const w = everyKvType(new GgufWriter()).addTensor('x', [4], [1, 2, 3, 4], GgmlType.F16);
  await w.write(join(dir, 'a.gguf'));
  t.ok((await readFile(join(dir, 'a.gguf'))).equals(w.toBuffer()));
});

t.test('a file that stops right after its last tensor (no final padding) is accepted', async (t) => {
  const dir = t.testdir();
  const buf = new GgufWriter().addTensor('x', [3], [1, 2, 3]).toBuffer();
  await writeFile(join(dir, 'x.gguf'), buf.subarray(0, buf.length - 20));
  const s = await validateGguf(join(dir, 'x.gguf'));
  t.equal(s.tensors[0]!.nbytes, 12);
});

t.test('the writer refuses what it cannot store exactly', async (t) => {
  const cases: Array<[string, (w: GgufWriter) => unknown]> = [
    ['u8 out of range', (w) => w.addUint8('k', 256)],
    ['i8 out of range', (w) => w.addInt8('k', -129)],
    ['u32 negative', (w) => w.addUint32('k', -1)],
    ['i32 fraction', (w) => w.addInt32('k', 1.5)],
    ['u64 negative', (w) => w.addUint64('k', -1n)],
    ['u64 too big', (w) => w.addUint64('k', 1n << 64n)],
    ['i64 unsafe number', (w) => w.addInt64('k', 2 ** 60)],
    ['bool not boolean', (w) => w.addBool('k', 1 as unknown as boolean)],
    ['string not string', (w) => w.addString('k', 5 as unknown as string)],
    ['array item out of range', (w) => w.addArray('k', GgufType.UINT8, [1, 300])],
    ['nested array', (w) => w.addArray('k', GgufType.ARRAY as never, [])],
    ['empty key', (w) => w.addUint8('', 1)],
    ['duplicate key', (w) => w.addUint8('k', 1).addUint8('k', 2)],
    ['alignment key by hand', (w) => w.addUint32('general.alignment', 64)],
    ['tensor data length', (w) => w.addTensor('t', [2, 2], [1, 2, 3])],
    ['tensor 5 dims', (w) => w.addTensor('t', [1, 1, 1, 1, 1], [1])],
    ['tensor negative dim', (w) => w.addTensor('t', [-1], [])],
    ['tensor name too long', (w) => w.addTensor('x'.repeat(64), [1], [1])],
    ['tensor empty name', (w) => w.addTensor('', [1], [1])],
    ['duplicate tensor', (w) => w.addTensor('t', [1], [1]).addTensor('t', [1], [1])],
    ['unsupported addTensor type', (w) => w.addTensor('t', [32], new Float32Array(32), GgmlType.Q8_0 as GgmlType.F32)],
    ['raw bytes wrong size', (w) => w.addTensorBytes('t', [32], GgmlType.Q8_0, new Uint8Array(33))],
    ['raw row not multiple of block', (w) => w.addTensorBytes('t', [16], GgmlType.Q8_0, new Uint8Array(17))],
    ['removed ggml type', (w) => w.addTensorBytes('t', [1], 4, new Uint8Array(1))],
  ];
  for (const [name, fn] of cases) {
    t.throws(() => fn(new GgufWriter()), { name: 'VidlmError', code: 'ERR_INVALID_ARG' }, name);
  }
  t.throws(() => new GgufWriter({ alignment: 48 }), { name: 'VidlmError', code: 'ERR_INVALID_ARG' }, 'alignment not a power of 2');
});

t.test('tensorNbytes follows ggml block sizes', async (t) => {
  t.equal(tensorNbytes(GgmlType.F32, [64, 32000]), 64 * 32000 * 4);
  t.equal(tensorNbytes(GgmlType.F16, [14, 14, 3, 64]), 14 * 14 * 3 * 64 * 2);
  t.equal(tensorNbytes(GgmlType.Q4_0, [64, 2]), 2 * 2 * 18);
  t.equal(tensorNbytes(GgmlType.Q4_K, [256, 3]), 3 * 144);
  t.equal(tensorNbytes(GgmlType.Q6_K, [512]), 2 * 210);
  t.equal(tensorNbytes(GgmlType.IQ4_NL, [32]), 18);
  t.equal(tensorNbytes(GgmlType.MXFP4, [64]), 2 * 17);
  t.equal(tensorNbytes(GgmlType.BF16, [3]), 6);
  t.equal(tensorNbytes(GgmlType.Q8_0, [16]), undefined, 'row not a multiple of the block');
  t.equal(tensorNbytes(4, [32]), undefined, 'removed type');
  t.equal(tensorNbytes(GgmlType.F32, [2 ** 40, 2 ** 40]), undefined, 'too large');
});
