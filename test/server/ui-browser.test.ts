// The page of `vidlm serve` in headless Chromium (Debian's chromium, driven by playwright-core;
// nothing downloaded) against the real CLI on the tiny fixtures: choose a clip, see the budget,
// ask and see the answer stream in, the thumbnails at the server's frame times (a click seeks),
// a follow-up with cached_tokens, localize's span, a dropped file, the watch view, and a budget
// error with its code. VIDLM_SCREENSHOTS=DIR also saves the page at 1280×720 and 390×844.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page, type Response } from 'playwright-core';
import { mediaDir, spawnServer, sseData } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium package)`);

const md = await mediaDir();
t.teardown(md.cleanup);
const srv = await spawnServer(['--media-path', md.dir]);
t.teardown(() => srv.stop());
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
t.teardown(() => browser.close());
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
const shots = process.env.VIDLM_SCREENSHOTS;
const LONG = { timeout: 180_000 };

/** The next chat completion the page sends: its request body and the events of its stream. */
function nextCompletion(p: Page): Promise<{ body: any; events: any[] }> {
  return new Promise((resolve) => {
    const on = async (r: Response) => {
      if (!r.url().endsWith('/v1/chat/completions')) return;
      p.off('response', on);
      const text = await r.text();
      const events = r.ok() ? sseData(text).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d)) : [JSON.parse(text)];
      resolve({ body: r.request().postDataJSON(), events });
    };
    p.on('response', on);
  });
}
const final = (events: any[]) => events.find((e) => e.vidlm)?.vidlm;
const usage = (events: any[]) => events.find((e) => e.usage)?.usage;

t.test('the page loads with the model and the media folder', async (t) => {
  const res = await page.goto(srv.url + '/');
  t.equal(res?.status(), 200);
  await page.waitForSelector('#media option[value="clip.mp4"]', { ...LONG, state: 'attached' });
  t.match(await page.textContent('#model'), /context 2048/);
  t.same(await page.$$eval('#media option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['', 'clip.mp4', 'photo.jpg', 'still.png']);
});

t.test('choose a clip and see the budget the server counts', async (t) => {
  await page.selectOption('select[name=strategy]', 'concat');
  await page.fill('input[name=frames]', '4');
  await page.selectOption('#media', 'clip.mp4');
  await page.waitForSelector('#budget[data-fits=true]', LONG);
  await page.waitForFunction(() => document.querySelector('#budget')?.getAttribute('aria-busy') === null);
  const expected = await (await fetch(`${srv.url}/ui/api/budget`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'clip.mp4', vidlm: { strategy: 'concat', frames: 4, timeTokens: 'none' } }) })).json() as any;
  t.equal(await page.getAttribute('#budget', 'data-total'), String(expected.total), 'the total the budget endpoint gives');
  t.match(await page.textContent('#budget'), new RegExp(`${expected.total} of ${expected.budget}`));
  t.match(await page.textContent('#budget'), /fits/);
});

let firstPrompt = 0;
t.test('ask: the answer streams in, the thumbnails sit at the frame times the server reports, a click seeks', async (t) => {
  await page.fill('input[name=maxTokens]', '32');
  await page.fill('#question', 'What happens in the video?');
  // the answer's length each time the page changed it
  await page.evaluate(() => {
    const seen: number[] = (window as any).answerLengths = [];
    new MutationObserver(() => { const a = document.querySelector('.turn.ask .answer'); if (a) seen.push(a.textContent!.length); }).observe(document.getElementById('log')!, { subtree: true, characterData: true, childList: true });
  });
  const sent = nextCompletion(page);
  await page.click('#ask');
  const { body, events } = await sent;
  t.same(body.vidlm, { strategy: 'concat', timeTokens: 'none', frames: 4 }, 'the options of the form');
  await page.waitForSelector('.turn.ask[data-done=true]', LONG);
  const pieces = events.filter((e) => e.choices?.[0]?.delta?.content).length;
  t.ok(pieces > 1, `${pieces} pieces`);
  const text = events.map((e) => e.choices?.[0]?.delta?.content ?? '').join('');
  const lengths: number[] = await page.evaluate(() => (window as any).answerLengths);
  t.ok(lengths.some((n) => n > 0 && n < text.length), `a part of the answer was shown before the rest came (lengths ${lengths.join(', ')} of ${text.length})`);
  t.equal(await page.textContent('.turn.ask .answer'), text);
  const media = final(events).media[0];
  t.equal(media.frames.length, 4);
  const ts = await page.$$eval('.thumb', (bs) => bs.map((b) => Number((b as HTMLElement).dataset.t)));
  t.same(ts, media.frames.map((f: { t: number }) => f.t), 'data-t are the server\'s frame times');
  t.match(await page.textContent('.thumb'), new RegExp(`${media.visual_tokens / 4} tok`), 'visual tokens per frame');
  t.match(await page.textContent('.turn.ask .meta'), /prefill \d+ ms/);
  firstPrompt = usage(events).prompt_tokens;
  // the thumbnails are the video's pictures: drawn from the source at their times, not left blank
  await page.waitForFunction(() => [...document.querySelectorAll('.thumb canvas')].every((c) => {
    const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 60) return true;
    return false;
  }), undefined, LONG);
  // keyboard: focus the third thumbnail, Enter seeks the player to its time
  await page.focus('.thumb:nth-child(3)');
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => Math.abs((document.getElementById('player') as HTMLVideoElement).currentTime - t) < 0.05, ts[2]!, LONG);
  t.pass(`the player is at ${ts[2]} s`);
});

t.test('a follow-up reuses the first turn: cached_tokens > 0 on the page and in the response', async (t) => {
  await page.fill('#question', 'And then?');
  const sent = nextCompletion(page);
  await page.keyboard.press('Control+Enter'); // from the question box
  const { body, events } = await sent;
  t.equal(body.messages.length, 3, 'the first turn, its answer and the new question');
  await page.waitForSelector('.turn.ask:nth-of-type(2)[data-done=true]', LONG);
  const cached = usage(events).prompt_tokens_details.cached_tokens;
  t.ok(cached >= firstPrompt, `cached ${cached} >= the first prompt's ${firstPrompt}`);
  t.equal(await page.getAttribute('.turn.ask:nth-of-type(2)', 'data-cached'), String(cached));
  t.match(await page.textContent('.turn.ask:nth-of-type(2) .cached'), `cached_tokens ${cached}`);
});

t.test('localize draws the span of its answer on the timeline', async (t) => {
  await page.fill('#question', 'the square moves');
  const sent = nextCompletion(page);
  await page.click('#localize');
  const { body, events } = await sent;
  t.equal(body.response_format.type, 'json_schema');
  const span = JSON.parse(events.map((e) => e.choices?.[0]?.delta?.content ?? '').join(''));
  await page.waitForSelector('#bar .span', LONG);
  const [a, b] = [Math.min(span.start, span.end), Math.max(span.start, span.end)];
  t.equal(await page.getAttribute('#bar .span', 'data-start'), String(a));
  t.equal(await page.getAttribute('#bar .span', 'data-end'), String(b));
});

t.test('watch: windows as they come, a yes run is an event on the timeline', async (t) => {
  await page.click('details summary');
  await page.fill('#watchform input[name=every]', '2');
  await page.fill('#watchform input[name=window]', '2');
  await page.fill('#watchform input[name=when]', 'the square is on the left');
  await page.click('#watch');
  await page.waitForSelector('.window[data-index="1"][data-answer]', LONG);
  await page.waitForFunction(() => !document.body.dataset.busy, undefined, LONG);
  const windows = await page.$$eval('.window', (ws) => ws.map((w) => ({ start: Number((w as HTMLElement).dataset.start), end: Number((w as HTMLElement).dataset.end), yes: (w as HTMLElement).dataset.answer === 'yes' })));
  t.same(windows.map((w) => [w.start, w.end]), [[0, 2], [2, 4]], 'two 2 s windows of the 4 s clip');
  // runs of yes windows, by hand
  const runs: [number, number][] = [];
  windows.forEach((w, k) => { if (!w.yes) return; if (k > 0 && windows[k - 1]!.yes) runs[runs.length - 1]![1] = w.end; else runs.push([w.start, w.end]); });
  const drawn = await page.$$eval('#bar .event', (es) => es.map((e) => [Number((e as HTMLElement).dataset.start), Number((e as HTMLElement).dataset.end)]));
  t.same(drawn, runs);
  if (shots) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'page-1280x720.png') });
  }
});

t.test('a question that does not fit: the budget says so, asking shows the error code', async (t) => {
  await page.fill('input[name=frames]', '64');
  await page.waitForSelector('#budget[data-fits=false]', LONG);
  t.match(await page.textContent('#budget'), /does not fit|context_length_exceeded/);
  await page.click('#new');
  await page.fill('#question', 'Too many frames?');
  await page.click('#ask');
  await page.waitForSelector('#error:not([hidden])', LONG);
  t.equal(await page.getAttribute('#error', 'data-code'), 'context_length_exceeded');
  t.match(await page.textContent('#error'), /context_length_exceeded.*64 frame\(s\)/);
  await page.fill('input[name=frames]', '4');
});

t.test('a dropped file plays from the browser and goes to the server as a data URL', async (t) => {
  await page.setInputFiles('#file', md.clip);
  await page.waitForFunction(() => /dropped/.test(document.getElementById('source')!.textContent ?? ''));
  await page.waitForSelector('#budget[data-fits=true]', LONG);
  await page.fill('#question', 'What is it?');
  const sent = nextCompletion(page);
  await page.click('#ask');
  const { body, events } = await sent;
  t.match(body.messages[0].content[0].video_url.url, /^data:video\/mp4;base64,/);
  t.equal(final(events).media[0].frames.length, 4);
  await page.waitForSelector('.turn.ask[data-done=true]', LONG);
});

t.test('phone width: the page fits 390 px without horizontal scrolling', async (t) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.equal(overflow, 0);
  if (shots) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'page-390x844.png') });
  }
  t.same(pageErrors, [], 'no script errors on the page');
});

t.test('with --api-key: the page shows invalid_api_key until the key is given, then plays from the folder', async (t) => {
  const keyed = await spawnServer(['--media-path', md.dir, '--api-key', 'sesame']);
  t.teardown(() => keyed.stop());
  const p = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  t.teardown(() => p.close());
  await p.goto(keyed.url + '/');
  await p.waitForSelector('#error:not([hidden])', LONG);
  t.equal(await p.getAttribute('#error', 'data-code'), 'invalid_api_key');
  await p.fill('#key', 'sesame');
  await p.press('#key', 'Enter');
  await p.locator('#key').blur();
  await p.waitForSelector('#media option[value="clip.mp4"]', { ...LONG, state: 'attached' });
  t.ok(await p.isHidden('#error'), 'the error went with the key');
  await p.selectOption('#media', 'clip.mp4');
  await p.waitForSelector('#budget[data-fits]', LONG);
  await p.waitForFunction(() => (document.getElementById('player') as HTMLVideoElement).readyState >= 1, undefined, LONG);
  t.match(await p.getAttribute('#player', 'src'), /^blob:/, 'the file came with the key, as a blob');
});
