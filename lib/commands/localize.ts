/** `vidlm localize <video> <event> ...`: prints the start and end seconds of the event. */
import { runQuery } from './ask.js';

export function run(args: string[]): Promise<number> {
  return runQuery('localize', args);
}
