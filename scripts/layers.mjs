// The layers of lib/, lowest first: a file may import its own layer and the ones below it.
// Shared by scripts/check-layers.mjs (the rule) and scripts/count-stops.mjs (climbs).
export const LAYERS = [
  ['base', /^(errors|options|serial|callbacks|versions|native|loader|model-info|limits)\.ts$|^(gguf|threads)\//],
  ['time', /^(time|mrope)\//],
  ['video', /^video\//],
  ['media', /^(assembly|prompt|subtitles|audio)\//],
  ['inference', /^inference\//],
  ['model', /^model\.ts$/],
  // a chat on a context: above the model, which does not know it
  ['chat', /^inference\/chat\.ts$/],
  ['pipeline', /^(pipeline|reduce)\//],
  ['surfaces', /^(api|watch|server|batch|eval)\/|^(cli-flags|optional-value)\.ts$/],
  ['entry', /^(index|cli)\.ts$|^commands\/|^fixtures\//],
];

/** The layer index of a path relative to lib/ (the first that matches, 'inference' last: inference/chat.ts is in 'chat'); -1 for none. */
export const layerOf = (file) => {
  const i = LAYERS.findIndex(([name, re]) => name !== 'inference' && re.test(file));
  return i >= 0 ? i : LAYERS.findIndex(([, re]) => re.test(file));
};
