/** `vidlm version [--json]` */
import { parseArgs } from 'node:util';
import { versions } from '../versions.js';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: vidlm version [--json]\n');
    return 0;
  }
  const v = versions();
  if (values.json) {
    process.stdout.write(JSON.stringify(v, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `vidlm ${v.vidlm}`,
    `llama.cpp ${v.llamaCpp.tag} (${v.llamaCpp.commit.slice(0, 10)})`,
    ...v.backends.map((b) => `backend ${b.name}: ${b.devices.map((d) => `${d.name} (${d.type}, ${d.description})`).join(', ') || 'no devices'}`),
    `cpu features: ${v.cpuFeatures.join(' ') || 'none reported'}`,
    `cpu variant: ${v.cpuVariant}`,
    `backend chosen: ${v.loader.selected} (VIDLM_BACKEND=${v.loader.requested})`,
    ...v.loader.warnings.map((w) => `warning: ${w}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
