import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUpstream } from '../../src/pool/upstream-config.js';
import { InvalidOptionError } from '../../src/errors.js';

test('parseUpstream - reads URLs and objects', () => {
  const cases: Array<[string | object, { protocol: string; host: string; port: number; target: string }]> = [
    ['udp://[2001:db8::2]:514', { protocol: 'udp', host: '2001:db8::2', port: 514, target: 'udp://[2001:db8::2]:514' }],
    ['tcp://[2001:db8::2]:601', { protocol: 'tcp', host: '2001:db8::2', port: 601, target: 'tcp://[2001:db8::2]:601' }],
    [{ protocol: 'udp', host: '2001:db8::2', port: 514 }, { protocol: 'udp', host: '2001:db8::2', port: 514, target: 'udp://[2001:db8::2]:514' }],
    ['tcp://collector-1:5140', { protocol: 'tcp', host: 'collector-1', port: 5140, target: 'tcp://collector-1:5140' }],
    ['tls://logs.example.com', { protocol: 'tls', host: 'logs.example.com', port: 6514, target: 'tls://logs.example.com:6514' }],
    ['RELP://127.0.0.1:2514', { protocol: 'relp', host: '127.0.0.1', port: 2514, target: 'relp://127.0.0.1:2514' }],
    ['udp://127.0.0.1', { protocol: 'udp', host: '127.0.0.1', port: 514, target: 'udp://127.0.0.1:514' }],
  ];
  for (const [input, expected] of cases) {
    const parsed = parseUpstream(input as string, 0);
    assert.deepEqual(
      { protocol: parsed.protocol, host: parsed.host, port: parsed.port, target: parsed.target },
      expected,
      JSON.stringify(input),
    );
  }
});

test('parseUpstream - rejects ambiguous IPv6 with a hint', () => {
  assert.throws(() => parseUpstream('udp://2001:db8::2:514', 0), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError);
    assert.equal(error.code, 'ERR_SYSLOG_INVALID_OPTION');
    assert.match(error.message, /2001:db8::2:514/);
    assert.match(error.message, /brackets/);
    return true;
  });
  assert.throws(() => parseUpstream({ protocol: 'udp', host: '2001:db8::2:514:1:1:1:1:1', port: 514 }, 3), /upstreams\[3\]\.host/);
});

test('parseUpstream - names the bad option and value', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['http://collector:80', /protocol "http"/],
    ['tcp://collector:70000', /port 70000/],
    [{ url: 'tcp://collector:514', weight: 0 }, /weight 0/],
    [{ url: 'tls://collector:6514', framing: 'lf' }, /TLS always uses octet counting/],
    [{ url: 'tcp://collector:514', framing: 'none' }, /framing "none"/],
    [{ protocol: 'tcp', port: 514 }, /Missing upstreams\[0\]\.host/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseUpstream(input as string, 0), message, JSON.stringify(input));
  }
});
