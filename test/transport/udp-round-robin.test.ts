import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RECORDS_PER_PICK, RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import { UdpTestCollector } from '../helpers/collector.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';

const numberOf = (message: string) => Number(message.split(' ').pop());

for (const recordsPerPick of [1, DEFAULT_RECORDS_PER_PICK]) {
  test(`UDP round robin - dead collector costs only detection time, recordsPerPick ${recordsPerPick}`, async (t) => {
    const alive = await UdpTestCollector.start();
    const doomed = await UdpTestCollector.start();
    t.after(() => Promise.all([alive.close(), doomed.close()]));
    // Probes every 10 s, so that only the traffic itself finds the dead collector.
    const sender = createSender([`udp://127.0.0.1:${alive.port}`, `udp://127.0.0.1:${doomed.port}`], {
      strategy: new RoundRobinStrategy({ recordsPerPick }),
      probeIntervalMs: 10_000,
    });
    t.after(() => sender.close(1_000));
    await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both are up');

    // One batch of an even number of picks, so that each collector gets half.
    const first = 2 * Math.max(50, recordsPerPick);
    for (let n = 1; n <= first; n += 1) sender.send(`${n}`);
    await waitUntil(() => alive.messages.length + doomed.messages.length === first, `the first ${first} arrived`);
    assert.equal(alive.messages.length, first / 2);
    assert.equal(doomed.messages.length, first / 2);

    await doomed.close();
    const total = 2_000;
    for (let n = first + 1; n <= total; n += 1) {
      sender.send(`${n}`);
      if (n % 50 === 0) await delay(5);
    }
    await waitUntil(() => sender.stats().upstreams[1].status === 'down', 'the dead collector is down');
    await sender.flush(5_000);
    await delay(300);

    const received = new Set([...alive.messages, ...doomed.messages].map(numberOf));
    const lost: number[] = [];
    for (let n = first + 1; n <= total; n += 1) if (!received.has(n)) lost.push(n);
    // An nginx UDP upstream keeps sending half the traffic to a dead collector. Here a datagram can
    // be lost only if it left before the ICMP port unreachable came back and after its replay
    // window of 200 ms ended, which on loopback does not happen.
    assert.deepEqual(lost, []);
    assert.ok(sender.stats().replayed >= 1, 'the datagrams sent to the dead collector were replayed');
  });
}
