// Inputs that used to end the process or print llama.cpp's complaints: token ids outside the
// vocabulary, a grammar nested 20,000 deep, a JSON schema nested 3,000 deep, a grammar that
// does not parse. Prints { name: code } for each, then the greedy answer afterwards.
import { tinyModel, vidlm } from './common.mjs';

const model = await tinyModel();
const ctx = await model.createContext({ contextSize: 128 });
const codes = {};
const code = async (name, fn) => {
  try { await fn(); codes[name] = 'resolved'; } catch (e) { codes[name] = `${e.constructor.name}:${e.code}`; }
};
const nVocab = model.info.nVocab;
for (const id of [-1, nVocab, 2 ** 31 - 1]) await code(`detokenize ${id}`, () => ctx.detokenize(Int32Array.of(1, id)));
let deepSchema = { type: 'string' };
for (let i = 0; i < 3000; i++) deepSchema = { type: 'array', items: deepSchema };
let deepJson = '"x"';
for (let i = 0; i < 3000; i++) deepJson = `{"type":"array","items":${deepJson}}`;
const grammars = {
  'grammar nested 20000': 'root ::= ' + '('.repeat(20000) + '"a"' + ')'.repeat(20000),
  'grammar that does not parse': 'root ::= ( "a" | ',
  'grammar without root': 'other ::= "a"',
};
await ctx.prefill([{ text: 'USER: hi\nASSISTANT:' }]);
for (const [name, grammar] of Object.entries(grammars)) await code(name, () => ctx.generate({ grammar, maxTokens: 2 }));
await code('jsonSchema nested 3000 (object)', () => ctx.generate({ jsonSchema: deepSchema, maxTokens: 2 }));
await code('jsonSchema nested 3000 (text)', () => ctx.generate({ jsonSchema: deepJson, maxTokens: 2 }));
const r = await ctx.generate({ maxTokens: 4, temperature: 0 });
console.log(JSON.stringify({ codes, after: r.text, generated: r.tokens.generated }));
