/**
 * The JSON parser of large request bodies, on its own thread: a 60 MB body takes seconds to parse,
 * which the event loop would spend not answering anyone. Same rules as Fastify's own parser
 * (secure-json-parse: `__proto__` and `constructor.prototype` keys are errors).
 */
import { parentPort } from 'node:worker_threads';
import sjson from 'secure-json-parse';

parentPort!.on('message', ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  try {
    const value: unknown = sjson.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' });
    parentPort!.postMessage({ id, value });
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).message });
  }
});
