// chat(video, options) takes ask()'s options: its sampling options (temperature, maxTokens, stop…)
// are every turn's defaults, as they are ask()'s, and a turn's own options override them. At
// temperature 0 a chat's first turn is ask()'s answer, and a fork asked the same question from the
// same point answers as its parent. Both pairs.
import t from 'tap';
import { ask, chat, loadModel } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { mropeAndLlavaPairs } from '../fixtures/tiny-models.js';

const clip = await media.h264();
const pairs = await mropeAndLlavaPairs();
const Q = 'What happens?';

for (const p of pairs) {
  t.test(p.name, async (t) => {
    const model = await loadModel({ ...p.paths, threads: 1 });
    t.teardown(() => model.dispose());
    const o = { model, frames: 4, temperature: 0, maxTokens: 6 };
    const asked = await ask(clip, Q, o);

    const c = await chat(clip, o);
    t.teardown(() => c.dispose());
    const first = await c.ask(Q).turn;
    t.equal(first.text, asked.text, "the first turn is ask()'s answer (greedy, as chat() was told)");
    t.equal(first.tokens.generated, asked.tokens.generated);
    t.ok(first.tokens.generated <= 6, `maxTokens 6 holds: ${first.tokens.generated}`);

    const [a, b] = [await c.fork(), await c.fork()];
    t.teardown(() => Promise.all([a.dispose(), b.dispose()]));
    const [ra, rb] = [await a.ask('And then?').turn, await b.ask('And then?').turn];
    const rc = await c.ask('And then?').turn;
    t.equal(ra.text, rb.text, 'two forks from one point give one greedy answer');
    t.equal(rc.text, ra.text, 'and the parent the same');

    const own = await c.ask('Once more?', { maxTokens: 2 }).turn;
    t.ok(own.tokens.generated <= 2, "a turn's own option overrides chat()'s");
  });
}
