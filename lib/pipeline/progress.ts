/** Progress of a video query, by stage; `fraction` runs 0 to 1 within each stage. */
export type Stage = 'decode' | 'encode' | 'prefill' | 'generate';
export interface ProgressEvent { stage: Stage; fraction: number }
export type ProgressListener = (event: ProgressEvent) => void;

export function stageReporter(listener: ProgressListener | undefined, stage: Stage): ((fraction: number) => void) | undefined {
  return listener ? (fraction) => listener({ stage, fraction }) : undefined;
}
