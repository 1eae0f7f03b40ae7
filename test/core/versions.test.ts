import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { versions } from '../../lib/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const vendored = JSON.parse(readFileSync(new URL('../../vendor/llama.cpp/vidlm-llama.json', import.meta.url), 'utf8'));

t.test('versions() reports this package, the vendored llama.cpp and a CPU device', async (t) => {
  const v = versions();
  t.equal(v.vidlm, pkg.version);
  t.equal(v.llamaCpp.tag, vendored.tag);
  t.equal(v.llamaCpp.commit, vendored.commit);
  const cpu = v.backends.find((b) => b.name === 'CPU');
  t.ok(cpu, 'the CPU backend is registered');
  t.ok(cpu!.devices.some((d) => d.type === 'cpu'), 'with a CPU device');
  t.ok(v.cpuFeatures.length > 0, 'CPU features are listed');
  if (process.arch === 'x64') t.ok(v.cpuFeatures.includes('SSE3'), 'an x86-64 CPU has at least SSE3');
});

t.test('vidlm version --json prints the same object', async (t) => {
  const out = execFileSync(process.execPath, [new URL('../../dist/cli.js', import.meta.url).pathname, 'version', '--json']);
  const v = JSON.parse(out.toString());
  t.equal(v.vidlm, pkg.version);
  t.equal(v.llamaCpp.commit, vendored.commit);
});
