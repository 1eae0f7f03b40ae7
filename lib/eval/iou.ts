/** Temporal IoU exactly as LITA's ActivityNet-RTL evaluation (`lita/eval/eval_model_rtl.py`). */

export type Segment = readonly [start: number, end: number];

/** inter = max(min(e1,e2) − max(s1,s2), 0); IoU = inter / (len1 + len2 − inter), 0 for an empty union. */
export function temporalIoU(a: Segment, b: Segment): number {
  const [s1, e1] = a, [s2, e2] = b;
  const inter = Math.max(Math.min(e1, e2) - Math.max(s1, s2), 0);
  const union = (e1 - s1) + (e2 - s2) - inter;
  return union === 0 ? 0 : inter / union;
}

/** Precision@θ of one prediction: 1 if IoU >= θ, else 0. */
export function hit(iou: number, threshold: number): number {
  return iou >= threshold ? 1 : 0;
}
