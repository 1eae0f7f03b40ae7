// A health checker in its own process, as a deployment has one (Docker, Kubernetes, a load
// balancer): polls GET /health every 10 ms from 'ready' until told to stop, then sends back each
// probe's latency, status and busy slots. The load test's own client work (64 streams parsed in
// the test process) is then not counted as the server's latency.
const url = process.argv[2];
let polling = true;
process.on('message', () => { polling = false; });
for (let i = 0; i < 20; i++) await (await fetch(`${url}/health`)).json(); // the probe's own first calls are slow
process.send('ready');
const probes = [];
while (polling) {
  const t0 = performance.now();
  const r = await fetch(`${url}/health`);
  const h = await r.json();
  probes.push({ ms: performance.now() - t0, status: r.status, busy: h.slots?.busy ?? -1 });
  await new Promise((r) => setTimeout(r, 10));
}
process.send(probes, () => process.disconnect());
