/**
 * Turns per-window yes/no answers into events: an event fires when the answer turns from no to
 * yes; the yes windows after it are the same event. Another can fire only after `cooldown`
 * consecutive no windows. Skipped windows change nothing (no answer was given for them).
 */
export class Debounce {
  readonly cooldown: number;
  #active = false;
  #noRun: number;

  constructor(cooldown = 1) {
    this.cooldown = cooldown;
    this.#noRun = cooldown; // armed from the start
  }

  get active(): boolean { return this.#active; }

  /** Feeds one window's answer; true when it starts a new event. */
  push(yes: boolean): boolean {
    if (yes) {
      this.#noRun = 0;
      if (this.#active) return false;
      this.#active = true;
      return true;
    }
    this.#noRun++;
    if (this.#noRun >= this.cooldown) this.#active = false;
    return false;
  }
}
