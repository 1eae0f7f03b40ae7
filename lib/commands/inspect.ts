/** `vidlm inspect --model M [--mmproj P] [--json]`: load the pair and print its shapes. */
import { parseArgs } from 'node:util';
import { loadModel } from '../model.js';

const usage = 'usage: vidlm inspect --model M.gguf [--mmproj P.gguf] [--threads N] [--json]\n';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string', short: 'm' },
      mmproj: { type: 'string' },
      threads: { type: 'string', short: 't' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { process.stdout.write(usage); return 0; }
  if (!values.model) { process.stderr.write(`vidlm: ERR_INVALID_ARG: --model is required\n${usage}`); return 2; }
  const model = await loadModel({
    model: values.model,
    mmproj: values.mmproj,
    threads: values.threads ? Number(values.threads) : undefined,
  });
  try {
    if (values.json) {
      process.stdout.write(JSON.stringify(model.info) + '\n');
    } else {
      const width = Math.max(...Object.keys(model.info).map((k) => k.length));
      for (const [k, v] of Object.entries({ ...model.info, devices: model.devices })) {
        const shown = v !== null && typeof v === 'object' ? Object.entries(v).map(([a, b]) => `${a}=${b}`).join(' ') : String(v);
        process.stdout.write(`${k.padEnd(width)}  ${shown}\n`);
      }
    }
  } finally {
    model.dispose();
  }
  return 0;
}
