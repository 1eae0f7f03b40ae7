export { temporalIoU, hit, type Segment } from './iou.js';
export { evaluateLocalization, THRESHOLDS, type LocalizeTruth, type LocalizeItemResult, type LocalizeReport } from './localize.js';
export { evaluateQa, extractChoice, mvbenchCorrect, truthLetter, type QaMatch, type QaTruth, type QaItemResult, type QaScore, type QaReport } from './qa.js';
export { readJsonl, readTruthItems, readLocalizeFiles, readQaFiles, type LocalizeFiles, type QaFiles } from './files.js';
