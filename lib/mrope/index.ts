export {
  mropePositions, mropeItemTokens, mropeItemNext, mropeTokenPosition,
  type MropeItem, type MropeText, type MropeGrid, type MropeSpan, type MropeLayout,
} from './positions.js';
