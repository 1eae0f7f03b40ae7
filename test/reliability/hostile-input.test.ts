// Issue 11, items 4, 5 and 16: token ids outside the vocabulary and deeply nested grammars or
// JSON schemas are coded errors (not the end of the process), a bad grammar is ERR_GRAMMAR,
// and llama.cpp's complaints stay off stderr without VIDLM_LOG.
import t from 'tap';
import { report, runScript } from './helpers.js';

t.test('bad token ids, deep grammars and schemas: coded errors, nothing on stderr, the context still generates', async (t) => {
  const r = await runScript('hostile.mjs', [], { VIDLM_LOG: '' });
  t.equal(r.signal, null, 'no signal');
  t.equal(r.code, 0, r.stderr);
  const { codes, generated } = report<{ codes: Record<string, string>; generated: number }>(r);
  for (const [name, c] of Object.entries(codes)) {
    const want = name.startsWith('detokenize') ? 'VidlmError:ERR_INVALID_ARG' : 'VidlmError:ERR_GRAMMAR';
    t.equal(c, want, name);
  }
  t.equal(Object.keys(codes).length, 8);
  t.equal(generated, 4, 'the context generates afterwards');
  t.equal(r.stderr, '', 'llama.cpp printed nothing');
});
