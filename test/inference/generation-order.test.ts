// The native side streams pieces on one libuv handle and resolves its promise on another, with no
// order between them: the last pieces can come after the promise (seen by the server's streams).
// Generation must still give every piece once, in order, whichever comes first.
import t from 'tap';
import { Generation, type GenerateResult } from '../../lib/index.js';

const result = (text: string): GenerateResult => ({ text, stopReason: 'eos', tokens: { generated: 3 }, timings: { firstTokenMs: 1, generateMs: 2, tokensPerSecond: 1 } });

/** A generation whose promise resolves after `early` pieces; the rest arrive afterwards. */
function racing(pieces: string[], early: number): Generation {
  return new Generation(async (onPiece) => {
    pieces.slice(0, early).forEach(onPiece);
    setTimeout(() => pieces.slice(early).forEach(onPiece), 20);
    return result(pieces.join(''));
  });
}

t.test('pieces that arrive after the promise are neither lost nor doubled', async (t) => {
  for (let early = 0; early <= 3; early++) {
    const g = racing(['Hel', 'lo ', 'wörld'], early);
    const seen: string[] = [];
    for await (const p of g) seen.push(p);
    t.equal(seen.join(''), 'Hello wörld', `${early} pieces before the promise: the whole text`);
    await new Promise((r) => setTimeout(r, 40)); // the late pieces have come now
    t.equal((await g).text, 'Hello wörld');
    t.equal(seen.join(''), 'Hello wörld', `${early} pieces before the promise: nothing added after the end`);
  }
});

t.test('in order: all pieces before the promise stream one by one', async (t) => {
  const g = racing(['a', 'b', 'c'], 3);
  const seen: string[] = [];
  for await (const p of g) seen.push(p);
  t.same(seen, ['a', 'b', 'c']);
});

t.test('a result whose text is not the streamed prefix is left alone (late pieces still stream)', async (t) => {
  const g = new Generation(async (onPiece) => {
    onPiece('x');
    return result('different');
  });
  const seen: string[] = [];
  for await (const p of g) seen.push(p);
  t.same(seen, ['x']);
});
