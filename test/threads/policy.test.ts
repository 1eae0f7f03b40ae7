// The thread policy for given machines: cores, cgroup quota, load, vidlm's own concurrent calls.
import t from 'tap';
import { capacity, externalLoad, shareBudget, threadBudget, type PolicyInput } from '../../lib/threads/policy.js';
import { parseCpuMax, parseRunnable } from '../../lib/threads/probe.js';

const machine = (o: Partial<PolicyInput>): PolicyInput => ({ cores: 2, quota: null, load1: 0, runnable: 0, ownThreads: 0, ...o });

t.test('capacity: the CPUs the process may run on, capped by the cgroup quota', async (t) => {
  t.equal(capacity({ cores: 8, quota: null }), 8);
  t.equal(capacity({ cores: 8, quota: 2 }), 2, 'cpu.max 200000 100000 in an 8-CPU container');
  t.equal(capacity({ cores: 8, quota: 2.5 }), 2, 'a fractional quota rounds down: 2.5 cores cannot run 3 threads');
  t.equal(capacity({ cores: 8, quota: 0.5 }), 1, 'at least one thread');
  t.equal(capacity({ cores: 2, quota: 16 }), 2, 'a quota above the CPUs does not add CPUs');
});

t.test('budget: free cores, rounded, at least one', async (t) => {
  t.equal(threadBudget(machine({})), 2, 'idle 2-core machine: both cores, as today');
  t.equal(threadBudget(machine({ runnable: 2 })), 1, 'a CPU hog on both cores: one thread');
  t.equal(threadBudget(machine({ runnable: 5 })), 1, 'load 5 on 2 cores (the issue\'s machine): one thread');
  t.equal(threadBudget(machine({ cores: 16, runnable: 3 })), 13, '16 cores, 3 busy: 13');
  t.equal(threadBudget(machine({ cores: 16, quota: 4, runnable: 1 })), 3, 'quota 4 with one busy task: 3');
  t.equal(threadBudget(machine({ runnable: null, load1: 0.3 })), 2, 'no runnable count: the load average; 0.3 rounds to idle');
  t.equal(threadBudget(machine({ runnable: null, load1: 4.2 })), 1, 'load average 4.2 on 2 cores');
  t.equal(threadBudget(machine({ cores: 8, runnable: null, load1: 5, ownThreads: 4 })), 7, 'vidlm\'s own running threads are not other load');
});

t.test('external load: the runnable count wins over the lagging load average', async (t) => {
  t.equal(externalLoad(machine({ runnable: 2, load1: 0.1 })), 2, 'a hog that just started: the load average has not seen it yet');
  t.equal(externalLoad(machine({ runnable: 0, load1: 3 })), 0, 'vidlm\'s own past work raised the load average: not load now');
  t.equal(externalLoad(machine({ runnable: null, load1: 1, ownThreads: 2 })), 0, 'never negative');
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

t.test('probe parsing: cgroup cpu.max and /proc/loadavg', async (t) => {
  t.equal(parseCpuMax('max 100000\n'), null);
  t.equal(parseCpuMax('200000 100000\n'), 2);
  t.equal(parseCpuMax('50000 100000'), 0.5);
  t.equal(parseCpuMax('garbage'), null);
  t.equal(parseRunnable('0.52 0.58 0.59 3/467 12345\n'), 3);
  t.equal(parseRunnable('nonsense'), null);
});
