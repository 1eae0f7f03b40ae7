// The page of `vidlm serve` in headless Chromium (Debian's chromium, driven by playwright-core;
// nothing downloaded) against the real CLI on the tiny fixtures: choose a clip, see the budget,
// ask and see the answer stream in, the thumbnails at the server's frame times (a click seeks),
// a follow-up with cached_tokens, localize's span, a dropped file, the watch view on the file and
// on a live source (MPEG-TS over UDP from the ffmpeg program, named with --live), and a budget
// error with its code. VIDLM_SCREENSHOTS=DIR also saves the page at 1280×720 and 390×844.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page, type Response } from 'playwright-core';
import { freeUdpPort } from '../fixtures/ports.js';
import { mediaDir, spawnServer, sseData } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (scripts/setup.sh installs Debian's chromium package)`);

const md = await mediaDir();
t.teardown(md.cleanup);
// a live camera on loopback: a moving test pattern sent in real time as MPEG-TS over UDP
const camPort = await freeUdpPort();
const cam = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:d=600',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5', '-pix_fmt', 'yuv420p', '-f', 'mpegts', `udp://127.0.0.1:${camPort}?pkt_size=1316`], { stdio: 'ignore' });
cam.on('error', () => undefined);
t.teardown(() => { cam.kill('SIGKILL'); });
const srv = await spawnServer(['--media-path', md.dir, '--live', `cam=udp://127.0.0.1:${camPort}`]);
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
  const expected = await (await fetch(`${srv.url}/ui/api/budget`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'clip.mp4', vidlm: { strategy: 'concat', frames: 4 } }) })).json() as any;
  t.ok(await page.$eval('select[name=timeTokens] option[value=model]', (o) => (o as HTMLOptionElement).disabled), "timeTokens 'model' is not offered on a LLaVA model");
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
  t.same(body.vidlm, { strategy: 'concat', frames: 4 }, 'the options of the form (time tokens left to the server: its default)');
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
  t.equal(body.vidlm.timeTokens, 'text', 'localize puts times in the prompt: text times where the form leaves the default on a LLaVA model');
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

t.test('watch a live source: windows arrive on the rolling timeline with their times and yes/no; Stop ends the watch on the server', async (t) => {
  t.same(await page.$$eval('#watchsource option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['', 'cam'], 'the server\'s live source, by name');
  await page.selectOption('#watchsource', 'cam');
  await page.fill('#watchform input[name=every]', '1');
  await page.fill('#watchform input[name=window]', '1');
  await page.fill('#watchform input[name=when]', 'the picture is mostly red');
  const sent = page.waitForRequest((r) => r.url().endsWith('/ui/api/live'), LONG);
  await page.click('#watch');
  const body = (await sent).postDataJSON();
  t.match(body, { name: 'cam', every: 1, window: 1, when: 'the picture is mostly red' });
  t.notOk(JSON.stringify(body).includes('udp'), 'the page sends a name, no URL');
  await page.waitForSelector('.window.live[data-index="2"]', LONG);
  t.ok(await page.isVisible('#livebar'), 'the rolling timeline shows');
  const listed = await page.$$eval('.window.live', (ws) => ws.map((w) => ({ start: Number((w as HTMLElement).dataset.start), end: Number((w as HTMLElement).dataset.end), answer: (w as HTMLElement).dataset.answer })));
  for (let i = 1; i < listed.length; i++) t.ok(listed[i]!.end > listed[i - 1]!.end, `window ${i} ends after window ${i - 1} (${listed[i - 1]!.end} → ${listed[i]!.end} s)`);
  for (const w of listed) t.ok(w.answer === 'yes' || w.answer === 'no', 'each window shows its yes/no');
  t.match(await page.textContent('.window.live'), /\d+(\.\d+)? s – \d+(\.\d+)? s/, 'the window\'s times are shown');
  await page.click('#watchstop');
  await page.waitForFunction(() => !document.body.dataset.busy, undefined, LONG);
  // what the rolling timeline drew, against the list: one block per window, an event per run of yes windows
  const all = await page.$$eval('.window.live', (ws) => ws.map((w) => [Number((w as HTMLElement).dataset.start), Number((w as HTMLElement).dataset.end), (w as HTMLElement).dataset.answer === 'yes'] as const));
  const blocks = await page.$$eval('#livebar .lwin', (bs) => bs.map((b) => [Number((b as HTMLElement).dataset.start), Number((b as HTMLElement).dataset.end)]));
  t.same(blocks, all.map(([a, b]) => [a, b]), 'each window at its times on the timeline');
  const runs = all.filter((w, k) => w[2] && !(k > 0 && all[k - 1]![2])).map(([a, b]) => [a, b]);
  const marks = await page.$$eval('#livebar .levent', (es) => es.map((e) => [Number((e as HTMLElement).dataset.start), Number((e as HTMLElement).dataset.end)]));
  t.same(marks, runs, `an event marked where each run of yes windows starts (${runs.length} of ${all.length} windows)`);
  const xs = await page.$$eval('#livebar .lwin', (bs) => bs.map((b) => Number((b as HTMLElement).style.getPropertyValue('--x'))));
  t.ok(xs.every((x, i) => i === 0 || x > xs[i - 1]!), 'blocks left to right in time');
  // the page closed its stream: the server's watch ends
  const deadline = Date.now() + 15_000;
  let running = NaN;
  while (Date.now() < deadline) {
    running = Number(/^vidlm_live_watches (\S+)$/m.exec(await (await fetch(`${srv.url}/metrics`)).text())?.[1]);
    if (running === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(running, 0, 'no live watch runs on the server after Stop');
  await page.selectOption('#watchsource', '');
});

t.test('live events are marked on the rolling timeline where the server puts them (a routed stream: the tiny model never answers yes)', async (t) => {
  const win = (index: number, yes: boolean) => ({ type: 'window', index, windowStart: index, windowEnd: index + 1, text: yes ? 'yes' : 'no', answer: yes ? 'yes' : 'no', frames: 2, encoded: 2, latencyMs: 40, lagMs: 50, skipped: 0 });
  const items = [{ type: 'start', name: 'cam', every: 1, window: 1 }, win(0, false), win(1, true), { type: 'event', start: 1, end: 2, window: 1 }, win(2, true), win(3, false),
    win(4, true), { type: 'event', start: 4.25, end: 4.75, window: 4 }, { type: 'end' }];
  await page.route('**/ui/api/live', (route) => route.fulfill({ status: 200, contentType: 'text/event-stream', body: items.map((x) => `data: ${JSON.stringify(x)}\n\n`).join('') }));
  t.teardown(() => page.unroute('**/ui/api/live'));
  await page.selectOption('#watchsource', 'cam');
  await page.click('#watch');
  await page.waitForSelector('.window.live[data-index="4"]', LONG);
  await page.waitForFunction(() => !document.body.dataset.busy, undefined, LONG);
  const marks = await page.$$eval('#livebar .levent', (es) => es.map((e) => [Number((e as HTMLElement).dataset.start), Number((e as HTMLElement).dataset.end), Number((e as HTMLElement).style.getPropertyValue('--x'))]));
  t.same(marks.map(([a, b]) => [a, b]), [[1, 2], [4.25, 4.75]], 'both events, at their own times (a localized one inside its window)');
  t.equal(marks[1]![2], 4.25 / 30, 'placed by time on the 30 s rolling view');
  t.same(await page.$$eval('#livebar .lwin.yes', (bs) => bs.map((b) => Number((b as HTMLElement).dataset.start))), [1, 2, 4], 'yes windows stand out');
  t.equal(await page.locator('#windows .event').count(), 2, 'and are listed');
  t.match(await page.textContent('#livestatus'), /cam ended/);
  await page.selectOption('#watchsource', '');
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
