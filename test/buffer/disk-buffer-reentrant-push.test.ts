import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { DiskBuffer } from '../../src/buffer/index.js';
import { SyslogSender } from '../../src/sender/syslog-sender.js';
import { UpstreamPool } from '../../src/pool/upstream-pool.js';
import { FAST_POOL, FIXTURE } from '../helpers/sender.js';
import { makeTempDirectory, payloadOf, readAll } from './helpers.js';

// Expected: push() throws only after close(). A 'drop' listener may push again, for example to
// log the drop through the same sender, and both records must be stored.
// The full policy must therefore run before the record is encoded into the shared pending batch:
// a listener's push between encodePayload() and commit() would commit over the same bytes.
test('drop-oldest listener pushes again', async () => {
  const directory = await makeTempDirectory();
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: 200, maxBytes: 400, whenFull: 'drop-oldest' });
  await buffer.open();
  const dropNotices: string[] = [];
  buffer.on('drop', (count, reason) => {
    const notice = `dropped ${count} (${reason})`;
    dropNotices.push(notice);
    buffer.push(notice, 0);
  });

  try {
    for (let index = 1; index <= 20; index += 1) {
      assert.doesNotThrow(() => buffer.push(payloadOf(`record-${index}`, 60), 60), `push of record-${index}`);
    }

    assert.ok(dropNotices.length > 0, 'the buffer dropped old segments');
    const payloads = readAll(buffer).map((record) => record.payload);
    assert.ok(payloads.includes(payloadOf('record-20', 60)), 'the newest record is stored');
  } finally {
    await buffer.close();
    await directory.remove();
  }
});

/** Returns a loopback TCP port that nothing listens on: the port of a server that was just closed. */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null);
  assert.ok(typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

// Expected: SyslogSender.send() throws only InvalidEventError, for input it cannot format (its
// doc comment in src/sender/syslog-sender.ts). A 'drop' listener that reports the drop with send()
// on the same sender is common logging code.
test('sender drop listener sends again', async () => {
  const directory = await makeTempDirectory();
  const port = await closedLoopbackPort();
  const buffer = new DiskBuffer({ directory: directory.path, segmentBytes: 1024, maxBytes: 2048, whenFull: 'drop-oldest' });
  const pool = new UpstreamPool([`tcp://127.0.0.1:${port}`], FAST_POOL);
  const sender = new SyslogSender({ ...FIXTURE, pool, buffer });
  sender.on('warning', () => {});
  let drops = 0;
  sender.on('drop', ({ count }) => {
    drops += count;
    sender.send(`dropped ${count} events`);
  });

  try {
    await sender.ready();
    for (let index = 1; index <= 100; index += 1) {
      assert.doesNotThrow(() => sender.send(payloadOf(`event-${index}`, 100)), `send of event-${index}`);
    }
    assert.ok(drops > 0, 'the full buffer dropped events');
  } finally {
    await sender.close(100);
    await directory.remove();
  }
});
