export { roundHalfEven, formatFixed, pyRound } from './round.js';
export { LITA_NUM_TIME_TOKENS, secondsToLitaIndex, litaIndexToSeconds, litaToken, litaVocabulary, type LitaSpelling } from './lita.js';
export { DEFAULT_TIME_FORMAT, formatSeconds, formatClock, formatTime, type TimeFormat } from './format.js';
export { resolveTimeEncoding, timeMarker, type TimeTokenMode, type TimeEncodingOptions, type ResolvedTimeEncoding } from './encode.js';
export { parseTimes, parseStartEnd, type TimeSpan, type ParseTimesOptions } from './parse.js';
