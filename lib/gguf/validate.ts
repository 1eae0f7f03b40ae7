import { open, stat, type FileHandle } from 'node:fs/promises';
import { VidlmError } from '../errors.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGML_TYPE_TRAITS,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_KEY_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_SUPPORTED_VERSIONS,
  GgufType,
  alignUp,
  ggmlTypeName,
  tensorNbytes,
} from './constants.js';
import { FileCursor } from './cursor.js';
import { notGguf } from './errors.js';
import { readString, readValue } from './read-values.js';
import type { GgufKv, GgufSummary, GgufTensorInfo, GgufValue, GgufValueType } from './types.js';

/** Smallest possible KV entry: 8 (key length) + 1 (key) + 4 (type) + 1 (u8 value). */
const MIN_KV_BYTES = 14;
/** Smallest possible tensor info: 8 (name length) + 1 (name) + 4 (n_dims) + 4 (type) + 8 (offset). */
const MIN_TENSOR_INFO_BYTES = 25;
const HEADER_BYTES = 24;

/**
 * Checks that `path` is a GGUF file llama.cpp can parse without tripping an assert, and
 * summarises it. It reads only the header (metadata and tensor infos), streaming, and checks
 * the tensor data layout against the file size, so it is cheap even for multi-GB models.
 *
 * Rejects with VidlmError: ERR_FILE_NOT_FOUND (missing, not a regular file, unreadable) or
 * ERR_NOT_GGUF (anything structurally wrong; `details.reason` says what, `details.offset` where).
 */
export async function validateGguf(path: string): Promise<GgufSummary> {
  let fh: FileHandle;
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) {
      throw new VidlmError('ERR_FILE_NOT_FOUND', `${path}: not a regular file`, { path, reason: 'not-a-file' });
    }
    size = st.size;
    fh = await open(path, 'r');
  } catch (e) {
    if (e instanceof VidlmError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : `cannot open (${code ?? String(e)})`;
    throw new VidlmError('ERR_FILE_NOT_FOUND', `${path}: ${why}`, { path, reason: code ?? 'open-failed' }, { cause: e });
  }
  try {
    return await parse(new FileCursor(fh, size, path), path);
  } catch (e) {
    if (e instanceof VidlmError) throw e;
    // I/O failures mid-read (EIO, file replaced): report them with the code callers expect.
    throw new VidlmError('ERR_FILE_NOT_FOUND', `${path}: read failed: ${(e as Error).message}`, { path, reason: 'read-failed' }, { cause: e });
  } finally {
    await fh.close();
  }
}

async function parse(c: FileCursor, path: string): Promise<GgufSummary> {
  const { version, nTensors, nKv } = await readHeader(c, path);
  const kv = await readKvs(c, path, nKv);
  const alignment = alignmentOf(kv, path);
  const tensors = await readTensorInfos(c, path, nTensors).catch((e: unknown) => {
    throw withTensorCountHint(e, nTensors);
  });
  return checkLayout(c, path, version, alignment, kv, tensors);
}

/** A bad tensor info is often a wrong count in the header: say how many the header claims. */
function withTensorCountHint(e: unknown, nTensors: number): unknown {
  if (!(e instanceof VidlmError) || e.code !== 'ERR_NOT_GGUF') return e;
  return new VidlmError('ERR_NOT_GGUF', `${e.message} (reading the ${nTensors} tensor infos the header declares)`, {
    ...e.details,
    tensorCount: nTensors,
  });
}

async function readHeader(c: FileCursor, path: string): Promise<{ version: number; nTensors: number; nKv: number }> {
  if (c.size < 4) throw notGguf(path, 'bad-magic', `file is ${c.size} bytes, too short to be GGUF`, 0, { fileSize: c.size });
  await c.need(4, 'magic');
  const magicBytes = c.bytes(4);
  if (magicBytes.readUInt32LE(0) !== GGUF_MAGIC) {
    const shown = JSON.stringify(magicBytes.toString('latin1'));
    throw notGguf(path, 'bad-magic', `not a GGUF file (magic ${shown}, expected "GGUF")`, 0);
  }
  await c.need(4, 'version');
  const version = c.u32();
  if (!GGUF_SUPPORTED_VERSIONS.includes(version)) {
    const hint = (version & 0xffff) === 0 ? ' (big-endian file?)' : version === 1 ? ' (GGUF v1 is no longer supported)' : '';
    throw notGguf(path, 'bad-version', `unsupported GGUF version ${version}${hint}`, 4, { version });
  }
  await c.need(16, 'tensor and KV counts');
  const nTensorsBig = c.u64();
  const nKvBig = c.u64();
  // A cheap lower bound on the header size catches wildly wrong counts before any parsing.
  const avail = BigInt(c.size - HEADER_BYTES);
  if (nKvBig * BigInt(MIN_KV_BYTES) + nTensorsBig * BigInt(MIN_TENSOR_INFO_BYTES) > avail) {
    throw notGguf(
      path,
      'bad-count',
      `header claims ${nTensorsBig} tensors and ${nKvBig} KV pairs, which cannot fit in ${c.size} bytes`,
      8,
      { tensorCount: nTensorsBig.toString(), kvCount: nKvBig.toString(), fileSize: c.size },
    );
  }
  return { version, nTensors: Number(nTensorsBig), nKv: Number(nKvBig) };
}

async function readKvs(c: FileCursor, path: string, nKv: number): Promise<Map<string, GgufKv>> {
  const kv = new Map<string, GgufKv>();
  for (let i = 0; i < nKv; i++) {
    const at = c.pos;
    const key = await readString(c, path, `key ${i}`, true);
    if (key.length === 0) throw notGguf(path, 'bad-key', `key ${i} is empty`, at, { index: i });
    if (kv.has(key)) throw notGguf(path, 'duplicate-key', `duplicate key '${key}'`, at, { key });
    const typeAt = c.pos;
    await c.need(4, `type of '${key}'`);
    kv.set(key, await readValue(c, path, c.u32(), key, typeAt));
  }
  return kv;
}

function alignmentOf(kv: Map<string, GgufKv>, path: string): number {
  const a = kv.get(GGUF_KEY_ALIGNMENT);
  if (!a) return GGUF_DEFAULT_ALIGNMENT;
  // ggml asserts the type when reading it, so check it here.
  if (a.type !== GgufType.UINT32) {
    throw notGguf(path, 'bad-alignment', `'${GGUF_KEY_ALIGNMENT}' must be uint32, is type ${a.type}`, 0);
  }
  const v = a.value as number;
  if (v === 0 || (v & (v - 1)) !== 0) {
    throw notGguf(path, 'bad-alignment', `'${GGUF_KEY_ALIGNMENT}' is ${v}, not a power of 2`, 0, { alignment: v });
  }
  return v;
}

async function readTensorInfos(c: FileCursor, path: string, nTensors: number): Promise<GgufTensorInfo[]> {
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const at = c.pos;
    const name = await readString(c, path, `name of tensor ${i}`, true);
    if (name.length === 0 || Buffer.byteLength(name) >= GGML_MAX_NAME) {
      throw notGguf(path, 'bad-tensor-name', `tensor ${i} has an invalid name (${Buffer.byteLength(name)} bytes, must be 1..${GGML_MAX_NAME - 1})`, at, {
        index: i,
      });
    }
    if (names.has(name)) throw notGguf(path, 'duplicate-tensor', `duplicate tensor name '${name}'`, at, { tensor: name });
    names.add(name);

    const dimsAt = c.pos;
    await c.need(4, `n_dims of '${name}'`);
    const nDims = c.u32();
    if (nDims > GGML_MAX_DIMS) {
      throw notGguf(path, 'bad-dims', `tensor '${name}' has ${nDims} dimensions (max ${GGML_MAX_DIMS})`, dimsAt, { tensor: name });
    }
    await c.need(8 * nDims + 4 + 8, `shape, type and offset of '${name}'`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const ne = c.i64();
      if (ne < 0n || ne > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw notGguf(path, 'bad-dims', `tensor '${name}' dimension ${d} is ${ne}`, dimsAt, { tensor: name });
      }
      dims.push(Number(ne));
    }
    const typeAt = c.pos;
    const type = c.i32();
    const traits = GGML_TYPE_TRAITS.get(type);
    if (!traits) {
      throw notGguf(path, 'bad-tensor-type', `tensor '${name}' has unknown or removed ggml type ${type}`, typeAt, { tensor: name, type });
    }
    const nbytes = tensorNbytes(type, dims);
    if (nbytes === undefined) {
      throw notGguf(
        path,
        'bad-dims',
        `tensor '${name}' shape [${dims.join(', ')}] is invalid for type ${traits.name} (row not a multiple of ${traits.blockSize}, or too large)`,
        dimsAt,
        { tensor: name, dims },
      );
    }
    const offsetAt = c.pos;
    const offset = c.u64();
    if (offset > BigInt(c.size)) {
      throw notGguf(path, 'bad-offset', `tensor '${name}' data offset ${offset} lies beyond the end of the file`, offsetAt, { tensor: name });
    }
    tensors.push({ name, type, typeName: ggmlTypeName(type), dims, offset: Number(offset), fileOffset: 0, nbytes });
  }
  return tensors;
}

/** Tensor data must be packed in order, each aligned, and lie inside the file (what ggml's loader assumes). */
function checkLayout(
  c: FileCursor,
  path: string,
  version: number,
  alignment: number,
  kv: Map<string, GgufKv>,
  tensors: GgufTensorInfo[],
): GgufSummary {
  const headerEnd = c.pos;
  const dataOffset = tensors.length > 0 ? alignUp(headerEnd, alignment) : headerEnd;
  let expected = 0;
  for (const t of tensors) {
    if (t.offset !== expected) {
      throw notGguf(path, 'bad-offset', `tensor '${t.name}' has data offset ${t.offset}, expected ${expected}`, headerEnd, {
        tensor: t.name,
        expected,
        actual: t.offset,
      });
    }
    t.fileOffset = dataOffset + t.offset;
    if (t.fileOffset + t.nbytes > c.size) {
      throw notGguf(
        path,
        'truncated',
        `file is truncated: tensor '${t.name}' needs bytes ${t.fileOffset}..${t.fileOffset + t.nbytes} but the file has ${c.size}`,
        c.size,
        { tensor: t.name, fileSize: c.size, needed: t.fileOffset + t.nbytes },
      );
    }
    expected = t.offset + alignUp(t.nbytes, alignment);
  }
  const last = tensors[tensors.length - 1];
  // Writers pad after the last tensor too, but tolerate a file that stops right after its data.
  const minEnd = last ? last.fileOffset + last.nbytes : headerEnd;
  const maxEnd = tensors.length > 0 ? dataOffset + expected : alignUp(headerEnd, alignment);
  if (c.size > maxEnd) {
    throw notGguf(
      path,
      'trailing-data',
      `${c.size - maxEnd} unexpected bytes after the tensor data (data section should end at ${maxEnd}; wrong tensor count?)`,
      maxEnd,
      { fileSize: c.size, expectedSize: maxEnd },
    );
  }
  if (c.size < minEnd) {
    throw notGguf(path, 'truncated', `file is truncated at ${c.size} bytes, expected at least ${minEnd}`, c.size, { fileSize: c.size });
  }
  const values = new Map<string, GgufValue>();
  const types = new Map<string, GgufValueType>();
  for (const [key, e] of kv) {
    values.set(key, e.value);
    types.set(key, e.type === GgufType.ARRAY ? { type: e.type, itemType: e.itemType } : { type: e.type });
  }
  return { path, version, fileSize: c.size, alignment, dataOffset, dataSize: expected, kv: values, kvTypes: types, tensors };
}
