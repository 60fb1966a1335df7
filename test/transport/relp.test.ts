import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueueRecord } from '../../src/buffer/queue.js';
import type { Connection } from '../../src/transport/connection.js';
import type { ConnectOptions } from '../../src/transport/options.js';
import { connectRelp, type RelpConnection } from '../../src/transport/relp.js';
import { FakeRelpServer, type FakeRelpSession, relpOptions } from '../helpers/fake-relp-server.js';
import { RsyslogCollector, freePort, makeTestCertificates, requireRsyslog } from '../helpers/rsyslog.js';

function makeRecord(id: number, payload: string): QueueRecord {
  return { id, payload, bytes: Buffer.byteLength(payload, 'utf8') };
}

/** Builds records whose MSG is `event <id>` so that a received message maps back to its record. */
function makeRecords(count: number, firstId = 1): QueueRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const id = firstId + index;
    return makeRecord(id, `<134>1 2024-03-07T09:05:03.000Z host1 app 77 ID${id} - event ${id}`);
  });
}

function idOf(msg: string): number {
  const match = /^event (\d+)$/.exec(msg);
  assert.ok(match, `unexpected MSG ${JSON.stringify(msg)}`);
  return Number(match[1]);
}

interface Observed {
  /** Ids of confirmed records, in the order the connection confirmed them. */
  confirmed: number[];
  confirmBatches: number;
  failures: Array<{ records: QueueRecord[]; error: Error }>;
  drains: number;
}

function observe(connection: Connection): Observed {
  const observed: Observed = { confirmed: [], confirmBatches: 0, failures: [], drains: 0 };
  connection.on('confirm', (confirmedIds) => {
    observed.confirmed.push(...Array.from(confirmedIds));
    observed.confirmBatches += 1;
  });
  connection.on('fail', (records, error) => observed.failures.push({ records, error }));
  connection.on('drain', () => (observed.drains += 1));
  return observed;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(5);
  }
}

/** Writes `records` in batches of `batchSize` whenever the connection is writable; resolves once all are written or it fails. */
function writeAll(connection: Connection, records: QueueRecord[], batchSize: number): Promise<number> {
  return new Promise((resolve) => {
    let next = 0;
    const pump = (): void => {
      while (connection.writable && next < records.length) {
        connection.write(records.slice(next, next + batchSize));
        next += batchSize;
      }
      if (next >= records.length) finish();
    };
    const finish = (): void => {
      connection.off('drain', pump);
      resolve(Math.min(next, records.length));
    };
    connection.on('drain', pump);
    connection.once('fail', finish);
    pump();
  });
}

async function startFake(t: TestContext, options: Parameters<typeof FakeRelpServer.start>[0] = {}): Promise<FakeRelpServer> {
  const server = await FakeRelpServer.start(options);
  t.after(() => server.close());
  return server;
}

async function connectFake(
  t: TestContext,
  server: FakeRelpServer,
  overrides: Partial<ConnectOptions> = {},
): Promise<{ connection: RelpConnection; session: FakeRelpSession; observed: Observed }> {
  const connection = (await connectRelp(relpOptions(server.port, overrides))) as RelpConnection;
  t.after(() => connection.destroy());
  const session = await server.session(server.sessions.length - 1);
  return { connection, session, observed: observe(connection) };
}

const ids = (records: readonly QueueRecord[]): number[] => records.map((record) => record.id);

test('connectRelp - delivers 1,000 records to imrelp', { timeout: 60_000 }, async (t) => {
  if (!requireRsyslog(t, ['relp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['relp'], maxMessageSize: '64k' });
  t.after(() => collector.dispose());

  const messages = [
    'plain ASCII',
    'Grüße aus Köln, naïve café',
    'Ошибка оплаты: карта отклонена',
    '支付失败 — 再试一次',
    'emoji 💳🚫 and a tab\tinside',
    'quotes " and backslash \\ and ] bracket',
  ];
  const records = Array.from({ length: 1000 }, (_, index) => {
    const id = index + 1;
    const msg = `${messages[index % messages.length]} #${id}`;
    return makeRecord(id, `<165>1 2024-03-07T09:05:03.123Z host-${id % 7}.example.com billing ${id} M${id} [seq n="${id}"] ${msg}`);
  });

  const connection = (await connectRelp(relpOptions(collector.ports.relp!))) as RelpConnection;
  const observed = observe(connection);
  assert.deepEqual(connection.serverOffers.get('commands'), ['syslog']);
  assert.ok(connection.serverOffers.has('relp_version'));

  await writeAll(connection, records, 37);
  await waitUntil(() => observed.confirmed.length === records.length || observed.failures.length > 0, 30_000, 'all confirmed');
  assert.deepEqual(observed.failures, []);
  assert.deepEqual(observed.confirmed, ids(records));
  assert.equal(connection.unconfirmed, 0);
  assert.equal(connection.settled, true);

  await connection.end(5000);
  assert.equal(connection.closed, true);
  assert.deepEqual(observed.failures, []);

  const received = await collector.waitFor(records.length);
  assert.equal(received.length, records.length);
  for (const [index, message] of received.entries()) {
    const id = index + 1;
    // rsyslog escapes control characters on reception by default, so TAB arrives as #011.
    const msg = `${messages[index % messages.length]} #${id}`.replace('\t', '#011');
    assert.equal(message.rawmsg, records[index].payload.replace('\t', '#011'), `rawmsg of record ${id}`);
    assert.equal(message.msg, msg, `msg of record ${id}`);
    assert.equal(message.pri, 165, `pri of record ${id}`);
    assert.equal(message.hostname, `host-${id % 7}.example.com`, `hostname of record ${id}`);
    assert.equal(message.appName, 'billing', `appName of record ${id}`);
    assert.equal(message.procId, String(id), `procId of record ${id}`);
    assert.equal(message.msgId, `M${id}`, `msgId of record ${id}`);
    assert.equal(message.structuredData, `[seq n="${id}"]`, `structuredData of record ${id}`);
  }
});

test('connectRelp - replays what a SIGKILL left unconfirmed', { timeout: 60_000 }, async (t) => {
  if (!requireRsyslog(t, ['relp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['relp'] });
  t.after(() => collector.dispose());
  const records = makeRecords(6000);

  const first = await connectRelp(relpOptions(collector.ports.relp!));
  const firstObserved = observe(first);
  let killed: Promise<void> | undefined;
  first.on('confirm', () => {
    if (killed === undefined && firstObserved.confirmed.length >= 1500) killed = collector.kill();
  });
  const written = await writeAll(first, records, 50);
  await waitUntil(() => firstObserved.failures.length > 0, 10_000, 'the first connection fails');
  await killed;

  assert.equal(firstObserved.failures.length, 1, 'fail is emitted once');
  const failed = firstObserved.failures[0].records;
  assert.ok(written < records.length, 'the kill came before every record was written');
  assert.ok(failed.length > 0, 'some records were in flight at the kill');
  assert.deepEqual([...firstObserved.confirmed, ...ids(failed)], ids(records.slice(0, written)), 'confirmed then failed, in write order');
  assert.equal(first.closed, true);
  assert.equal(first.unconfirmed, 0);

  await collector.restart();
  const second = await connectRelp(relpOptions(collector.ports.relp!));
  const secondObserved = observe(second);
  const resend = [...failed, ...records.slice(written)];
  await writeAll(second, resend, 50);
  await waitUntil(() => secondObserved.confirmed.length === resend.length || secondObserved.failures.length > 0, 30_000, 'the replay is confirmed');
  assert.deepEqual(secondObserved.failures, []);
  assert.deepEqual(secondObserved.confirmed, ids(resend));
  await second.end(5000);

  const received = (await collector.received()).map((message) => idOf(message.msg));
  const receivedSet = new Set(received);
  const sentIds = ids(records);
  assert.deepEqual([...receivedSet].sort((a, b) => a - b), sentIds, 'the set received equals the set sent');
  const duplicates = received.length - receivedSet.size;
  // Only records in flight at the kill can arrive twice: rsyslog stored them but its rsp was lost.
  assert.ok(duplicates <= failed.length, `${duplicates} duplicates, more than the ${failed.length} records replayed`);
  t.diagnostic(`written before the kill: ${written}, replayed: ${failed.length}, duplicates: ${duplicates}`);
});

test('connectRelp - fails on serverclose from a stopping imrelp', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['relp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['relp'] });
  t.after(() => collector.dispose());
  const connection = await connectRelp(relpOptions(collector.ports.relp!));
  const observed = observe(connection);

  await collector.stop();
  await waitUntil(() => observed.failures.length > 0, 5000, 'the connection fails');
  assert.equal(observed.failures.length, 1);
  assert.deepEqual(observed.failures[0].records, []);
  assert.match(observed.failures[0].error.message, /serverclose/);
  assert.equal(connection.closed, true);
});

test('connectRelp - stall timeout fails a paused imrelp', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['relp'])) return;
  const collector = await RsyslogCollector.start({ inputs: ['relp'] });
  t.after(() => collector.dispose());
  const connection = await connectRelp(relpOptions(collector.ports.relp!, { stallTimeoutMs: 400 }));
  const observed = observe(connection);

  await collector.pause();
  connection.write(makeRecords(20));
  await waitUntil(() => observed.failures.length > 0, 5000, 'the stall timeout fires');
  assert.equal((observed.failures[0].error as Error & { code?: string }).code, 'ERR_SYSLOG_WRITE_STALLED');
  assert.deepEqual(ids(observed.failures[0].records), ids(makeRecords(20)));
  assert.deepEqual(observed.confirmed, []);
});

test('connectRelp - delivers over TLS to imrelp', { timeout: 30_000 }, async (t) => {
  if (!requireRsyslog(t, ['relp-tls'])) return;
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-relp-tls-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const certificates = await makeTestCertificates(directory);
  const collector = await RsyslogCollector.start({ inputs: ['relp-tls'], tls: certificates });
  t.after(() => collector.dispose());
  const port = collector.ports['relp-tls']!;

  // imrelp with tls.authmode="certvalid" requires a client certificate from the same CA; the
  // test server certificate also allows clientAuth.
  const clientTls = { ca: certificates.ca, certFile: certificates.certFile, keyFile: certificates.keyFile };
  const connection = await connectRelp(relpOptions(port, { tls: clientTls as ConnectOptions['tls'] }));
  const observed = observe(connection);
  const records = [makeRecord(1, '<14>1 - host1 app - M1 - über TLS'), ...makeRecords(9, 2)];
  connection.write(records);
  await waitUntil(() => observed.confirmed.length === records.length || observed.failures.length > 0, 10_000, 'all confirmed');
  await connection.end(5000);
  assert.deepEqual(observed.failures, []);
  assert.deepEqual(observed.confirmed, ids(records));

  const received = await collector.waitFor(records.length);
  assert.deepEqual(received.map((message) => message.rawmsg), records.map((record) => record.payload));

  await assert.rejects(connectRelp(relpOptions(port, { tls: { ca: certificates.ca } })), 'no client certificate');
});

test('RelpConnection - window limits unacknowledged transactions', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server, { relpWindowSize: 4 });
  const records = makeRecords(10);

  connection.write(records);
  await session.waitFor((s) => s.syslogFrames.length === 4);
  await sleep(50);
  assert.equal(session.syslogFrames.length, 4, 'only the window is on the wire');
  assert.deepEqual(session.syslogFrames.map((frame) => frame.txnr), [2, 3, 4, 5]);
  assert.equal(connection.writable, false);
  assert.equal(connection.unconfirmed, 10);

  session.respond(2);
  session.respond(3);
  await session.waitFor((s) => s.syslogFrames.length === 6);
  assert.deepEqual(observed.confirmed, [1, 2]);
  assert.equal(connection.unconfirmed, 8);
  assert.equal(connection.writable, false);

  for (let txnr = 4; txnr <= 11; txnr += 1) {
    await session.waitFor((s) => s.syslogFrames.some((frame) => frame.txnr === txnr));
    session.respond(txnr);
  }
  await waitUntil(() => observed.confirmed.length === 10, 2000, 'all confirmed');
  assert.deepEqual(observed.confirmed, ids(records));
  assert.deepEqual(
    session.syslogFrames.map((frame) => frame.data.toString('utf8')),
    records.map((record) => record.payload),
    'payloads arrive in write order',
  );
  assert.deepEqual(session.syslogFrames.map((frame) => frame.txnr), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(connection.writable, true);
  assert.equal(observed.drains, 1);
});

test('RelpConnection - confirms in order after an out-of-order rsp', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(3));
  await session.waitFor((s) => s.syslogFrames.length === 3);

  session.respond(3);
  await sleep(50);
  assert.deepEqual(observed.confirmed, [], 'record 2 waits for record 1');
  session.respond(2);
  await waitUntil(() => observed.confirmed.length === 2, 2000, 'two confirmed');
  assert.deepEqual(observed.confirmed, [1, 2]);
  session.respond(4);
  await waitUntil(() => observed.confirmed.length === 3, 2000, 'three confirmed');
  assert.deepEqual(observed.confirmed, [1, 2, 3]);
});

test('RelpConnection - fails on a non-200 rsp', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(4));
  await session.waitFor((s) => s.syslogFrames.length === 4);

  session.respond(2);
  session.respond(3, '500 queue full');
  await waitUntil(() => observed.failures.length > 0, 2000, 'the connection fails');
  assert.deepEqual(observed.confirmed, [1]);
  assert.deepEqual(ids(observed.failures[0].records), [2, 3, 4]);
  const error = observed.failures[0].error as Error & { code?: string };
  assert.equal(error.code, 'ERR_SYSLOG_RELP_PROTOCOL');
  assert.match(error.message, /rejected transaction 3 with 500 queue full/);
  assert.equal(connection.closed, true);
  await session.waitFor((s) => s.closed);
});

test('RelpConnection - fails with everything unacknowledged on serverclose', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server, { relpWindowSize: 3 });
  connection.write(makeRecords(5));
  await session.waitFor((s) => s.syslogFrames.length === 3);

  session.respond(2);
  session.sendRaw('0 serverclose 0\n');
  await waitUntil(() => observed.failures.length > 0, 2000, 'the connection fails');
  assert.deepEqual(observed.confirmed, [1]);
  assert.deepEqual(ids(observed.failures[0].records), [2, 3, 4, 5], 'window then backlog, in order');
  const error = observed.failures[0].error as Error & { code?: string };
  assert.equal(error.code, 'ERR_SYSLOG_CONNECTION_CLOSED');
  assert.match(error.message, /serverclose/);
  assert.equal(connection.unconfirmed, 0);
});

test('RelpConnection - fails with everything unacknowledged on reset', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(3));
  await session.waitFor((s) => s.syslogFrames.length === 3);

  session.respond(2);
  await waitUntil(() => observed.confirmed.length === 1, 2000, 'one confirmed');
  session.socket.resetAndDestroy();
  await waitUntil(() => observed.failures.length > 0, 2000, 'the connection fails');
  assert.deepEqual(ids(observed.failures[0].records), [2, 3]);
  assert.equal((observed.failures[0].error as Error & { code?: string }).code, 'ERR_SYSLOG_CONNECTION_CLOSED');
  await sleep(20);
  assert.equal(observed.failures.length, 1, 'fail is emitted once');
  assert.equal(connection.closed, true);
});

test('RelpConnection - fails on an invalid frame', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(2));
  await session.waitFor((s) => s.syslogFrames.length === 2);

  session.sendRaw('2 rsp 6 200 OK\n3 rsp 6 200 OKX\n');
  await waitUntil(() => observed.failures.length > 0, 2000, 'the connection fails');
  assert.deepEqual(observed.confirmed, [1], 'the valid frame before the broken one counts');
  assert.deepEqual(ids(observed.failures[0].records), [2]);
  assert.equal((observed.failures[0].error as Error & { code?: string }).code, 'ERR_SYSLOG_RELP_PROTOCOL');
});

test('RelpConnection - fails on an rsp for an unknown transaction', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(1));
  await session.waitFor((s) => s.syslogFrames.length === 1);

  session.respond(99);
  await waitUntil(() => observed.failures.length > 0, 2000, 'the connection fails');
  assert.match(observed.failures[0].error.message, /rsp for transaction 99, which is not outstanding/);
  assert.deepEqual(ids(observed.failures[0].records), [1]);
});

test('RelpConnection - stall timeout fails a silent collector', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server, { stallTimeoutMs: 300 });
  const started = Date.now();
  connection.write(makeRecords(5));
  await session.waitFor((s) => s.syslogFrames.length === 5);

  await waitUntil(() => observed.failures.length > 0, 5000, 'the stall timeout fires');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300, `failed after ${elapsed} ms, before the 300 ms stall timeout`);
  assert.ok(elapsed < 2000, `failed after ${elapsed} ms, long after the 300 ms stall timeout`);
  assert.equal((observed.failures[0].error as Error & { code?: string }).code, 'ERR_SYSLOG_WRITE_STALLED');
  assert.deepEqual(ids(observed.failures[0].records), [1, 2, 3, 4, 5]);
});

test('RelpConnection - stays open while idle past the stall timeout', async (t) => {
  const server = await startFake(t, { autoAcknowledge: true });
  const { connection, observed } = await connectFake(t, server, { stallTimeoutMs: 100 });
  connection.write(makeRecords(2));
  await waitUntil(() => observed.confirmed.length === 2, 2000, 'both confirmed');

  await sleep(400);
  assert.deepEqual(observed.failures, []);
  assert.equal(connection.closed, false);
});

test('RelpConnection - end waits for acks, then closes', async (t) => {
  const server = await startFake(t, { respondToClose: false });
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(2));
  await session.waitFor((s) => s.syslogFrames.length === 2);

  let ended = false;
  const ending = connection.end(5000).then(() => (ended = true));
  assert.equal(connection.writable, false);
  await sleep(50);
  assert.equal(session.frames.some((frame) => frame.command === 'close'), false, 'close waits for the acks');

  session.respond(2);
  session.respond(3);
  await session.waitFor((s) => s.frames.some((frame) => frame.command === 'close'));
  const close = session.frames.find((frame) => frame.command === 'close')!;
  assert.equal(close.txnr, 4);
  assert.equal(ended, false, 'end waits for the rsp to close');

  // librelp responds to close with an empty rsp, then sends serverclose.
  session.sendRaw('4 rsp 0\n0 serverclose 0\n');
  await ending;
  assert.deepEqual(observed.confirmed, [1, 2]);
  assert.deepEqual(observed.failures, []);
  assert.equal(connection.closed, true);
  await session.waitFor((s) => s.closed);
});

test('RelpConnection - end reports unacknowledged records at its timeout', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server);
  connection.write(makeRecords(3));
  await session.waitFor((s) => s.syslogFrames.length === 3);
  session.respond(2);

  const started = Date.now();
  await connection.end(200);
  assert.ok(Date.now() - started >= 190, 'end waited for its timeout');
  assert.deepEqual(observed.confirmed, [1]);
  assert.equal(observed.failures.length, 1);
  assert.deepEqual(ids(observed.failures[0].records), [2, 3]);
  assert.match(observed.failures[0].error.message, /2 records unacknowledged when end\(\) timed out after 200 ms/);
});

test('RelpConnection - write after end fails the records', async (t) => {
  const server = await startFake(t, { autoAcknowledge: true });
  const { connection, observed } = await connectFake(t, server);
  await connection.end(2000);

  const late = makeRecords(2, 10);
  connection.write(late);
  assert.equal(observed.failures.length, 1);
  assert.deepEqual(ids(observed.failures[0].records), [10, 11]);
});

test('RelpConnection - destroy reports every unconfirmed record', async (t) => {
  const server = await startFake(t);
  const { connection, session, observed } = await connectFake(t, server, { relpWindowSize: 2 });
  connection.write(makeRecords(4));
  await session.waitFor((s) => s.syslogFrames.length === 2);

  const reason = new Error('switching upstream');
  connection.destroy(reason);
  assert.equal(observed.failures.length, 1);
  assert.deepEqual(ids(observed.failures[0].records), [1, 2, 3, 4]);
  assert.equal(observed.failures[0].error, reason);
  connection.destroy();
  assert.equal(observed.failures.length, 1, 'fail is emitted once');
});

test('RelpConnection - measures DATALEN when record.bytes is wrong', async (t) => {
  const server = await startFake(t, { autoAcknowledge: true });
  const { connection, session, observed } = await connectFake(t, server);
  const payload = '<14>1 - h app - - - grüße';
  connection.write([{ id: 1, payload, bytes: payload.length }, makeRecord(2, '<14>1 - h app - - - ok')]);

  await waitUntil(() => observed.confirmed.length === 2, 2000, 'both confirmed');
  assert.equal(session.parseError, undefined);
  assert.deepEqual(session.syslogFrames.map((frame) => frame.data.toString('utf8')), [payload, '<14>1 - h app - - - ok']);
});

test('RelpConnection - sends an empty payload with DATALEN 0', async (t) => {
  const server = await startFake(t, { autoAcknowledge: true });
  const { connection, session, observed } = await connectFake(t, server);
  connection.write([makeRecord(1, '')]);
  await waitUntil(() => observed.confirmed.length === 1, 2000, 'confirmed');
  assert.equal(session.syslogFrames[0].data.length, 0);
});

test('connectRelp - sends the open offers', async (t) => {
  const server = await startFake(t);
  await connectFake(t, server);
  const session = await server.session();
  const open = session.frames[0];
  assert.equal(open.txnr, 1);
  assert.equal(open.command, 'open');
  assert.deepEqual(open.data.toString('utf8').split('\n'), ['relp_version=0', 'relp_software=resilient-syslog', 'commands=syslog']);
});

test('connectRelp - rejects a refused open', async (t) => {
  const server = await startFake(t, { openResponse: '500 required command not supported by client' });
  await assert.rejects(connectRelp(relpOptions(server.port)), {
    code: 'ERR_SYSLOG_RELP_PROTOCOL',
    message: /rejected the RELP session: 500 required command not supported by client/,
  });
});

test('connectRelp - rejects a server without the syslog command', async (t) => {
  const server = await startFake(t, { openResponse: '200 OK\nrelp_version=0\ncommands=eventlog' });
  await assert.rejects(connectRelp(relpOptions(server.port)), {
    code: 'ERR_SYSLOG_RELP_PROTOCOL',
    message: /does not offer the syslog command \(commands=eventlog\)/,
  });
});

test('connectRelp - rejects a server without relp_version', async (t) => {
  const server = await startFake(t, { openResponse: '200 OK\ncommands=syslog' });
  await assert.rejects(connectRelp(relpOptions(server.port)), { code: 'ERR_SYSLOG_RELP_PROTOCOL', message: /relp_version/ });
});

test('connectRelp - times out when open gets no rsp', async (t) => {
  const server = await startFake(t, { openResponse: null });
  const started = Date.now();
  await assert.rejects(connectRelp(relpOptions(server.port, { connectTimeoutMs: 200 })), { code: 'ERR_SYSLOG_CONNECT_TIMEOUT' });
  assert.ok(Date.now() - started >= 190);
  const session = await server.session();
  await session.waitFor((s) => s.closed);
});

test('connectRelp - rejects a refused connection', async () => {
  const port = await freePort();
  await assert.rejects(connectRelp(relpOptions(port)), { code: 'ECONNREFUSED' });
});

test('connectRelp - verifies the server certificate', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'resilient-syslog-relp-tls-'));
  t.after(() => rm(directory, { recursive: true, force: true }));
  const certificates = await makeTestCertificates(directory);
  const server = await startFake(t, {
    autoAcknowledge: true,
    tls: { cert: await readFile(certificates.certFile), key: await readFile(certificates.keyFile) },
  });

  const connection = await connectRelp(relpOptions(server.port, { tls: { ca: certificates.ca } }));
  t.after(() => connection.destroy());
  const observed = observe(connection);
  connection.write(makeRecords(3));
  await waitUntil(() => observed.confirmed.length === 3, 2000, 'all confirmed');
  await connection.end(2000);
  assert.deepEqual(observed.failures, []);

  await assert.rejects(connectRelp(relpOptions(server.port, { tls: {} })), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
});
