import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { MessageFormatter, byteLength } from '../../src/format/index.js';
import { F3164 } from './fixtures.js';

test('RFC 3164 - header with padded day', () => {
  const formatter = new MessageFormatter(F3164);
  assert.equal(formatter.format('test 1'), '<14>Mar  7 09:05:03 host1 billing[4242]: test 1');
  assert.equal(byteLength(formatter.format('test 1')), 47);
  assert.equal(formatter.format({ message: 'started' }), '<14>Mar  7 09:05:03 host1 billing[4242]: started');
});

test('RFC 3164 - day is space-padded to width 2', () => {
  const formatter = new MessageFormatter(F3164);
  assert.equal(
    formatter.format({ timestamp: Date.UTC(2024, 2, 7, 9, 5, 3), message: 'started' }),
    '<14>Mar  7 09:05:03 host1 billing[4242]: started',
  );
  assert.equal(
    formatter.format({ timestamp: Date.UTC(2024, 2, 17, 9, 5, 3), message: 'started' }),
    '<14>Mar 17 09:05:03 host1 billing[4242]: started',
  );
  assert.equal(
    formatter.format({ timestamp: Date.UTC(2024, 0, 1, 0, 0, 0), message: 'started' }),
    '<14>Jan  1 00:00:00 host1 billing[4242]: started',
  );
});

test('RFC 3164 - English month names', () => {
  const formatter = new MessageFormatter(F3164);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  months.forEach((month, index) => {
    const output = formatter.format({ timestamp: Date.UTC(2024, index, 10, 23, 59, 59), message: 'x' });
    assert.equal(output, `<14>${month} 10 23:59:59 host1 billing[4242]: x`);
  });
});

test('RFC 3164 - no space between PRI and TIMESTAMP', () => {
  const formatter = new MessageFormatter({ ...F3164, facility: 'local7', severity: 'info' });
  const output = formatter.format('started');
  assert.equal(output, '<190>Mar  7 09:05:03 host1 billing[4242]: started');
  assert.equal(output.charCodeAt(output.indexOf('>') + 1), 0x4d);
});

test('RFC 3164 - short hostname unless fqdn', () => {
  const options = { ...F3164, hostname: 'host1.example.com', appName: 'rsyncd' };
  assert.equal(
    new MessageFormatter(options).format('module list requested'),
    '<14>Mar  7 09:05:03 host1 rsyncd[4242]: module list requested',
  );
  assert.equal(
    new MessageFormatter({ ...options, fqdn: true }).format('module list requested'),
    '<14>Mar  7 09:05:03 host1.example.com rsyncd[4242]: module list requested',
  );
  assert.equal(
    new MessageFormatter(F3164).format({ hostname: 'web2.example.com', message: 'x' }),
    '<14>Mar  7 09:05:03 web2 billing[4242]: x',
  );
});

test('RFC 3164 - IP address hostname stays whole', () => {
  assert.equal(new MessageFormatter({ ...F3164, hostname: '192.0.2.10' }).format('x'), '<14>Mar  7 09:05:03 192.0.2.10 billing[4242]: x');
  assert.equal(new MessageFormatter({ ...F3164, hostname: '[2001:db8::2]' }).format('x'), '<14>Mar  7 09:05:03 2001:db8::2 billing[4242]: x');
});

test('RFC 3164 - replaces spaces and non-ASCII in HOSTNAME and TAG', () => {
  const formatter = new MessageFormatter({ ...F3164, hostname: 'Core Router', appName: 'WAN Connection' });
  assert.equal(formatter.format('x'), '<14>Mar  7 09:05:03 Core_Router WAN_Connection[4242]: x');

  const idn = new MessageFormatter({ ...F3164, hostname: 'überwachung.example.com', appName: 'Überwachung' });
  assert.equal(idn.format('x'), '<14>Mar  7 09:05:03 xn--berwachung-8db _berwachung[4242]: x');
  const idnFqdn = new MessageFormatter({ ...F3164, hostname: 'überwachung.example.com', fqdn: true });
  assert.equal(idnFqdn.format('x'), '<14>Mar  7 09:05:03 xn--berwachung-8db.example.com billing[4242]: x');
});

test('RFC 3164 - replaces TAG delimiters inside name and PID', () => {
  const formatter = new MessageFormatter({ ...F3164, appName: 'svc:a[1]', procId: 'x]y' });
  assert.equal(formatter.format('x'), '<14>Mar  7 09:05:03 host1 svc_a_1_[x_y]: x');
});

test('RFC 3164 - TAG is at most 32 characters', () => {
  const formatter = new MessageFormatter({ ...F3164, appName: 'payments-api_worker.3.k2j4h5g6f7d8s9a0' });
  const output = formatter.format('x');
  assert.equal(output, '<14>Mar  7 09:05:03 host1 payments-api_worker.3.k2j[4242]: x');
  assert.equal('payments-api_worker.3.k2j[4242]:'.length, 32);
  assert.equal(formatter.counters.fieldsTruncated, 1);
});

test('RFC 3164 - TAG without room for the PID drops it', () => {
  const formatter = new MessageFormatter({ ...F3164, procId: '9'.repeat(29) });
  assert.equal(formatter.format('x'), '<14>Mar  7 09:05:03 host1 billing: x');
  assert.equal(formatter.counters.fieldsTruncated, 1);

  const fits = new MessageFormatter({ ...F3164, appName: 'b', procId: '9'.repeat(28) });
  assert.equal(fits.format('x'), `<14>Mar  7 09:05:03 host1 b[${'9'.repeat(28)}]: x`);
});

test('RFC 3164 - TAG without PID', () => {
  assert.equal(new MessageFormatter({ ...F3164, procId: '' }).format('x'), '<14>Mar  7 09:05:03 host1 billing: x');
  assert.equal(new MessageFormatter({ ...F3164, procId: '-' }).format('x'), '<14>Mar  7 09:05:03 host1 billing: x');
});

test('RFC 3164 - event appName and procId build the TAG', () => {
  const formatter = new MessageFormatter(F3164);
  assert.equal(formatter.format({ appName: 'cron', procId: 17, message: 'x' }), '<14>Mar  7 09:05:03 host1 cron[17]: x');
  assert.equal(formatter.format({ appName: 'cron', message: 'x' }), '<14>Mar  7 09:05:03 host1 cron[4242]: x');
  assert.equal(formatter.format('x'), '<14>Mar  7 09:05:03 host1 billing[4242]: x');
});

test('RFC 3164 - ignores MSGID and structured data', () => {
  const formatter = new MessageFormatter({ ...F3164, msgId: 'LOGIN' });
  assert.equal(
    formatter.format({ msgId: 'X', structuredData: { 'a@32473': { b: 'c' } }, message: 'x' }),
    '<14>Mar  7 09:05:03 host1 billing[4242]: x',
  );
});

test('RFC 3164 - non-ASCII MSG gets no BOM', () => {
  assert.equal(new MessageFormatter(F3164).format('Grüße'), '<14>Mar  7 09:05:03 host1 billing[4242]: Grüße');
});

test('RFC 3164 - empty MSG ends after the TAG', () => {
  assert.equal(new MessageFormatter(F3164).format(''), '<14>Mar  7 09:05:03 host1 billing[4242]:');
});

test('RFC 3164 - rejects sequenceId and BOM always', () => {
  assert.throws(() => new MessageFormatter({ ...F3164, sequenceId: true }), InvalidOptionError);
  assert.throws(() => new MessageFormatter({ ...F3164, bom: 'always' }), /^InvalidOptionError: Invalid bom "always"/);
});

test('RFC 3164 - default cap is 1024 bytes', () => {
  const formatter = new MessageFormatter(F3164);
  const output = formatter.format('x'.repeat(70_000));
  assert.equal(byteLength(output), 1024);
  assert.ok(output.startsWith('<14>Mar  7 09:05:03 host1 billing[4242]: xxx'));
  assert.equal(formatter.counters.truncated, 1);
});
