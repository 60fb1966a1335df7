import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoundRobinStrategy } from '../../src/strategy/round-robin.js';
import { UdpTestCollector } from '../helpers/collector.js';
import { createSender, delay, waitUntil } from '../helpers/sender.js';

const numberOf = (message: string) => Number(message.split(' ').pop());

test('UDP round robin - dead collector costs only detection time', async (t) => {
  const alive = await UdpTestCollector.start();
  const doomed = await UdpTestCollector.start();
  t.after(() => Promise.all([alive.close(), doomed.close()]));
  // Probes every 10 s, so that only the traffic itself finds the dead collector.
  const sender = createSender([`udp://127.0.0.1:${alive.port}`, `udp://127.0.0.1:${doomed.port}`], {
    strategy: new RoundRobinStrategy(),
    probeIntervalMs: 10_000,
  });
  t.after(() => sender.close(1_000));
  await waitUntil(() => sender.stats().upstreams.every((upstream) => upstream.status === 'up'), 'both are up');

  for (let n = 1; n <= 100; n += 1) sender.send(`${n}`);
  await waitUntil(() => alive.messages.length + doomed.messages.length === 100, 'the first 100 arrived');
  assert.equal(alive.messages.length, 50);
  assert.equal(doomed.messages.length, 50);

  await doomed.close();
  const total = 2_000;
  for (let n = 101; n <= total; n += 1) {
    sender.send(`${n}`);
    if (n % 50 === 0) await delay(5);
  }
  await waitUntil(() => sender.stats().upstreams[1].status === 'down', 'the dead collector is down');
  await sender.flush(5_000);
  await delay(300);

  const received = new Set([...alive.messages, ...doomed.messages].map(numberOf));
  const lost: number[] = [];
  for (let n = 101; n <= total; n += 1) if (!received.has(n)) lost.push(n);
  // An nginx UDP upstream keeps sending half the traffic to a dead collector. Here a datagram can
  // be lost only if it left before the ICMP port unreachable came back and after its replay
  // window of 200 ms ended, which on loopback does not happen.
  assert.deepEqual(lost, []);
  assert.ok(sender.stats().replayed >= 1, 'the datagrams sent to the dead collector were replayed');
});
