/** LITA's prompts (NVlabs/LITA `lita/dataset/event_loc_dataset.py`, `dvc_dataset.py`). */
import { VidlmError } from '../errors.js';

/**
 * The event-localization question LITA was trained on (one of its phrasings): the caption's
 * first letter lower-cased and a trailing period stripped, as the dataset code does.
 */
export function litaLocalizeQuestion(caption: string): string {
  if (typeof caption !== 'string' || caption.trim() === '') throw new VidlmError('ERR_INVALID_ARG', 'the event to localize must be a non-empty string');
  let c = caption.trim();
  c = c[0]!.toLowerCase() + c.slice(1);
  if (c.endsWith('.')) c = c.slice(0, -1);
  return `When does "${c}" happen in the video? Answer the question only using start and end timestamps.`;
}

/** LITA's dense-captioning instruction. */
export const LITA_DENSE_CAPTION_QUESTION = 'Provide a detailed description of the given video. Prepend each sentence with its start and end timestamps.';
