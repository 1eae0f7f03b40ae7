/** A request's subtitle file: taken only from inside the media folder, checked like file:// media. */
import { fileURLToPath } from 'node:url';
import { isSubtitleFile } from '../subtitles/load.js';
import type { SubtitleSpec } from '../subtitles/load.js';
import { badRequest } from './errors.js';
import { localFile } from './media.js';
import type { CheckedServerOptions } from './options.js';

/** The request's `subtitles`: a file becomes its real path inside the media folder (403 outside it); tracks stay as they are. */
export async function resolveSubtitles(spec: SubtitleSpec | undefined, o: CheckedServerOptions): Promise<SubtitleSpec | undefined> {
  if (typeof spec !== 'string' || !isSubtitleFile(spec)) return spec;
  const param = 'vidlm.subtitles';
  let path = spec;
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) {
    if (!spec.startsWith('file:')) throw badRequest('invalid_value', 'a subtitle file is a path or file:// URL inside the media folder', param);
    try { path = fileURLToPath(spec); } catch { throw badRequest('invalid_value', `not a valid file URL: ${spec.slice(0, 200)}`, param); }
  }
  const file = await localFile(path, o, param);
  return file.input as string;
}
