/**
 * Localization metrics as ActivityNet-RTL reports them: IoU and Precision@θ per question,
 * averaged over each video's questions, then over videos (video-balanced, not question-balanced).
 */
import { hit, temporalIoU, type Segment } from './iou.js';

export const THRESHOLDS = [0.3, 0.5, 0.7] as const;

export interface LocalizeTruth {
  id: string;
  /** Questions about one video are averaged together first; defaults to the id. */
  video: string;
  segment: Segment;
}

export interface LocalizeItemResult {
  id: string;
  video: string;
  gt: Segment;
  /** null when there was no usable prediction (scored as IoU 0). */
  pred: Segment | null;
  iou: number;
}

export interface LocalizeReport {
  questions: number;
  videos: number;
  /** Mean over videos of the mean IoU of their questions. */
  mIoU: number;
  /** Same averaging of 1[IoU >= θ], keyed "0.3", "0.5", "0.7". */
  precision: Record<string, number>;
  /** Ground-truth ids without a usable prediction (IoU 0). */
  missing: string[];
  /** Prediction ids absent from the ground truth (ignored). */
  extra: string[];
  items: LocalizeItemResult[];
}

export function evaluateLocalization(
  truth: readonly LocalizeTruth[],
  preds: ReadonlyMap<string, Segment | null>,
  thresholds: readonly number[] = THRESHOLDS,
): LocalizeReport {
  const items: LocalizeItemResult[] = truth.map((g) => {
    const pred = preds.get(g.id) ?? null;
    return { id: g.id, video: g.video, gt: g.segment, pred, iou: pred ? temporalIoU(pred, g.segment) : 0 };
  });
  const byVideo = new Map<string, LocalizeItemResult[]>();
  for (const it of items) {
    const list = byVideo.get(it.video);
    if (list) list.push(it); else byVideo.set(it.video, [it]);
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const videoMean = (f: (it: LocalizeItemResult) => number) => mean([...byVideo.values()].map((list) => mean(list.map(f))));
  const precision: Record<string, number> = {};
  for (const th of thresholds) precision[String(th)] = videoMean((it) => hit(it.iou, th));
  const ids = new Set(truth.map((g) => g.id));
  return {
    questions: items.length,
    videos: byVideo.size,
    mIoU: videoMean((it) => it.iou),
    precision,
    missing: items.filter((it) => it.pred === null).map((it) => it.id),
    extra: [...preds.keys()].filter((id) => !ids.has(id)),
    items,
  };
}
