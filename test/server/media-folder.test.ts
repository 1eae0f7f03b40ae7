// The media folder (--media-path) as deployments get it wrong: a folder that does not exist or is a
// file is refused when the server starts (ERR_INVALID_ARG naming mediaPath), before the model is
// loaded; a folder removed while the server runs gives its media requests a stable error that does
// not show the server's paths, and the server goes on answering.
import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, VidlmError } from '../../lib/index.js';
import { media } from '../fixtures/media.js';
import { tinyModels } from '../fixtures/tiny-models.js';
import { post, videoTurn } from './helpers.js';

const m = await tinyModels();
const model = { model: m.model, mmproj: m.mmproj!, threads: 1 };
const tmp = mkdtempSync(join(tmpdir(), 'vidlm-folder-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('a folder that is not there, or a file, is refused at the start', async (t) => {
  writeFileSync(join(tmp, 'a-file'), 'x');
  for (const mediaPath of [join(tmp, 'nope'), join(tmp, 'a-file')]) {
    const e = await createServer({ model, mediaPath }).catch((err: unknown) => err);
    t.ok(e instanceof VidlmError && e.code === 'ERR_INVALID_ARG', `${mediaPath}: ${String(e)}`);
    t.equal((e as VidlmError).details?.option, 'mediaPath');
  }
});

t.test('a folder removed while the server runs: media requests get a stable error without paths; the server serves on', async (t) => {
  const folder = mkdtempSync(join(tmp, 'media-'));
  copyFileSync(await media.h264(), join(folder, 'clip.mp4'));
  const server = await createServer({ model, mediaPath: folder });
  const url = await server.listen({ port: 0 });
  t.teardown(() => server.close());
  t.equal((await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 })).status, 200);
  rmSync(folder, { recursive: true, force: true });
  const r = await post(url, { messages: [videoTurn('clip.mp4')], max_tokens: 1 });
  t.equal(r.status, 503, JSON.stringify(r.json));
  t.equal(r.json.error.code, 'media_path_unavailable');
  t.notMatch(r.json.error.message, folder, 'the folder is not named to the client');
  for (const path of ['/ui/api/media', '/ui/api/file?path=clip.mp4']) {
    const u = await fetch(`${url}${path}`);
    const body = await u.json() as { error: { code: string; message: string } };
    t.equal(u.status, 503, path);
    t.equal(body.error.code, 'media_path_unavailable', path);
    t.notMatch(body.error.message, folder);
  }
  t.equal((await post(url, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 })).status, 200, 'text requests are answered');
});
