// The thread policy for given machines: cores, cgroup quota, load, vidlm's own concurrent calls.
import t from 'tap';
import { capacity, decodeBudget, externalLoad, shareBudget, threadBudget, type PolicyInput } from '../../lib/threads/policy.js';
import { nicedCompetes, otherBusyCores, parseCpuList, parseCpuMax, parseProcStat } from '../../lib/threads/probe.js';

const machine = (o: Partial<PolicyInput>): PolicyInput => ({ cores: 2, quota: null, load1: 0, busy: 0, ownThreads: 0, ...o });

t.test('capacity: the CPUs the process may run on, capped by the cgroup quota', async (t) => {
  t.equal(capacity({ cores: 8, quota: null }), 8);
  t.equal(capacity({ cores: 8, quota: 2 }), 2, 'cpu.max 200000 100000 in an 8-CPU container');
  t.equal(capacity({ cores: 8, quota: 2.5 }), 2, 'a fractional quota rounds down: 2.5 cores cannot run 3 threads');
  t.equal(capacity({ cores: 8, quota: 0.5 }), 1, 'at least one thread');
  t.equal(capacity({ cores: 2, quota: 16 }), 2, 'a quota above the CPUs does not add CPUs');
});

t.test('budget: free cores, rounded, at least one', async (t) => {
  t.equal(threadBudget(machine({})), 2, 'idle 2-core machine: both cores, as today');
  t.equal(threadBudget(machine({ busy: 2 })), 1, 'a CPU hog on both cores: one thread');
  t.equal(threadBudget(machine({ busy: 5 })), 1, 'load 5 on 2 cores (the issue\'s machine): one thread');
  t.equal(threadBudget(machine({ cores: 16, busy: 3 })), 13, '16 cores, 3 busy: 13');
  t.equal(threadBudget(machine({ cores: 16, quota: 4, busy: 1 })), 3, 'quota 4 with one busy task: 3');
  t.equal(threadBudget(machine({ busy: null, load1: 0.3 })), 2, 'no CPU-time reading: the load average; 0.3 rounds to idle');
  t.equal(threadBudget(machine({ busy: null, load1: 4.2 })), 1, 'load average 4.2 on 2 cores');
  t.equal(threadBudget(machine({ cores: 8, busy: null, load1: 5, ownThreads: 4 })), 7, 'vidlm\'s own running threads are not other load');
});

t.test('decoding: the cores vidlm\'s own compute calls leave, whatever other processes keep busy', async (t) => {
  t.equal(decodeBudget(machine({})), 2, 'idle 2-core machine: both cores, as the compute budget');
  t.equal(decodeBudget(machine({ busy: 2 })), 2, 'a CPU hog on both cores: still both (decoding threads sleep, they do not spin), where compute gets 1');
  t.equal(threadBudget(machine({ busy: 2 })), 1);
  t.equal(decodeBudget(machine({ busy: null, load1: 9 })), 2, 'nor the load average');
  t.equal(decodeBudget(machine({ ownThreads: 1 })), 1, 'one of vidlm\'s compute threads running: the other core');
  t.equal(decodeBudget(machine({ ownThreads: 2 })), 1, 'all cores computing: at least one');
  t.equal(decodeBudget(machine({ cores: 16, quota: 4, busy: 3, ownThreads: 1 })), 3, 'capped by the cgroup quota, less vidlm\'s own threads');
});

t.test('external load: the CPU-time reading wins over the lagging load average', async (t) => {
  t.equal(externalLoad(machine({ busy: 2, load1: 0.1 })), 2, 'a hog that just started: the load average has not seen it yet');
  t.equal(externalLoad(machine({ busy: 0, load1: 3 })), 0, 'vidlm\'s own past work raised the load average: not load now');
  t.equal(externalLoad(machine({ busy: null, load1: 1, ownThreads: 2 })), 0, 'never negative');
});

t.test('sharing: concurrent calls split the budget, never more than it while calls <= budget', async (t) => {
  t.same(shareBudget(2, 1), [2]);
  t.same(shareBudget(2, 2), [1, 1], 'two serve slots on 2 cores: one thread each, not two each');
  t.same(shareBudget(8, 3), [3, 3, 2], 'the remainder to the first calls');
  t.same(shareBudget(1, 1), [1]);
  t.same(shareBudget(2, 3), [1, 1, 1], 'more calls than threads: one each (the budget waits before this happens)');
  for (let b = 1; b <= 16; b++) {
    for (let n = 1; n <= b; n++) {
      const s = shareBudget(b, n);
      t.equal(s.reduce((a, x) => a + x, 0), b, `budget ${b}, ${n} calls: all of it handed out`);
      t.ok(Math.max(...s) - Math.min(...s) <= 1, 'evenly');
    }
  }
});

t.test('probe parsing: cgroup cpu.max, cpusets and /proc/stat', async (t) => {
  t.equal(parseCpuMax('max 100000\n'), null);
  t.equal(parseCpuMax('200000 100000\n'), 2);
  t.equal(parseCpuMax('50000 100000'), 0.5);
  t.equal(parseCpuMax('garbage'), null);
  t.same([...parseCpuList('0-3,8,10-11')!], [0, 1, 2, 3, 8, 10, 11]);
  t.same([...parseCpuList('0')!], [0]);
  t.equal(parseCpuList('x-1'), null);
  const stat = 'cpu  30 5 10 100 2 0 1 0 0 0\ncpu0 10 2 4 50 1 0 1 0 0 0\ncpu1 20 3 6 50 1 0 0 0 0 0\nintr 1 2 3\n';
  t.same(parseProcStat(stat, null), { busy: 10 + 4 + 1 + 20 + 6, nice: 5, total: 68 + 80, cpus: 2 }, 'the per-CPU lines, not the summary line');
  t.same(parseProcStat(stat, new Set([1])), { busy: 26, nice: 3, total: 80, cpus: 1 }, 'only the CPUs the process may run on');
  t.equal(parseProcStat('intr 1 2', null), null);
});

// two readings of a 2-CPU machine 100 ms apart (10 ticks a CPU), the process having used `ownMs` of CPU time
const window = (busy: number, nice: number, ownMs: number) => otherBusyCores(
  { at: 0, cpu: { busy: 0, nice: 0, total: 0, cpus: 2 }, ownUs: 0 },
  { at: 100, cpu: { busy, nice, total: 20, cpus: 2 }, ownUs: ownMs * 1000 }, false);

t.test('other work\'s busy cores from /proc/stat: niced work yields, vidlm\'s own time is not other work', async (t) => {
  t.equal(window(0, 0, 0), 0, 'an idle machine');
  t.equal(window(20, 0, 0), 2, 'a CPU hog on both cores');
  t.equal(window(0, 20, 0), 0, 'a nice -n 19 build on both cores: free for vidlm (issue 26: it read as load 2 and the encoder ran 1 thread)');
  t.equal(window(20, 0, 200), 0, 'vidlm itself ran 2 threads the whole window: nobody else');
  t.equal(window(20, 0, 100), 1, 'vidlm used one core, something else the other');
  t.equal(window(5, 15, 0), 0.5, 'half a core of nice-0 work beside a niced build: rounds to a free machine');
  const niced = otherBusyCores({ at: 0, cpu: { busy: 0, nice: 0, total: 0, cpus: 2 }, ownUs: 0 }, { at: 100, cpu: { busy: 0, nice: 20, total: 20, cpus: 2 }, ownUs: 0 }, true);
  t.equal(niced, 2, 'vidlm run niced itself: the niced build competes as an equal');
  t.equal(otherBusyCores({ at: 0, cpu: { busy: 0, nice: 0, total: 20, cpus: 2 }, ownUs: 0 }, { at: 100, cpu: { busy: 0, nice: 0, total: 20, cpus: 2 }, ownUs: 0 }, false), null, 'no ticks in the window: no reading');
  t.equal(threadBudget(machine({ busy: window(0, 20, 0) })), 2, 'so the policy gives both cores beside a niced build');
  t.equal(nicedCompetes(0, '/autogroup-96 nice 0\n'), false, 'vidlm at nice 0 in a nice-0 session: niced work yields');
  t.equal(nicedCompetes(10, null), true, 'vidlm run with nice 10');
  t.equal(nicedCompetes(0, '/autogroup-97 nice 19\n'), true, 'vidlm in a niced session group: other groups weigh as much as its own');
  t.equal(nicedCompetes(0, null), false, 'no autogroup (cgroups, other OSes)');
  t.equal(threadBudget(machine({ busy: window(20, 0, 0) })), 1, 'and one beside a hog');
});

t.test('the probe reads this machine', { skip: process.platform !== 'linux' && 'Linux: /proc/stat' }, async (t) => {
  const { probeSystem } = await import('../../lib/threads/probe.js');
  const v = await probeSystem(0);
  t.type(v.busy, 'number', 'a CPU-time reading');
  t.ok(v.busy! >= 0 && v.busy! <= v.cores + 0.5, `other work's busy cores within the machine (${v.busy!.toFixed(2)} of ${v.cores})`);
});
