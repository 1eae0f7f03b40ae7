/**
 * Audio on the pooled strategies: where each chunk of a media order (lib/audio/plan.ts) goes among
 * the pooled frame blocks. A chunk is a slot of lib/assembly: it carries the time marker of its
 * start (the same function as a frame's: LITA token, text timestamp or none) and goes before the
 * frame that follows it in the order, so the pooled prompt keeps the order of the plan.
 */
import type { TimeSlot } from '../assembly/plan.js';
import type { MediaStep } from './plan.js';

/** One slot per audio step, in step order: `t` its start, `before` the time of the next frame step (Infinity after the last). */
export function audioSlots(steps: readonly MediaStep[]): TimeSlot[] {
  const slots: TimeSlot[] = [];
  let open: TimeSlot[] = [];
  for (const s of steps) {
    if (s.kind === 'audio') {
      const slot = { t: s.start, before: Infinity };
      slots.push(slot);
      open.push(slot);
    } else {
      for (const slot of open) slot.before = s.t;
      open = [];
    }
  }
  return slots;
}
