/** `vidlm describe <video> [--prompt TEXT] ...`: a description of the whole video (or of its sound, on an audio model). */
import { runQuery } from './ask.js';

export function run(args: string[]): Promise<number> {
  return runQuery('describe', args);
}
