// An HTTP service that logs through pino to two local syslog collectors with failover. The
// example starts both collectors in a child process, serves a few requests, kills the primary
// collector half-way, then shuts down and prints what each collector received.
//
// pino runs the transport in a worker thread and loads it by package name, so build first:
//   npm run build && node --import tsx examples/http-service-pino.ts
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { PinoTransportOptions } from '../src/integrations/pino.js';
import { startCollectorProcess } from './lib/collector-process.js';

const REQUESTS = 40;

const collectors = await startCollectorProcess(['primary', 'backup']);
const { primary: primaryPort, backup: backupPort } = collectors.ports;

const transportOptions: PinoTransportOptions = {
  upstreams: [`tcp://127.0.0.1:${primaryPort}`, `tcp://127.0.0.1:${backupPort}`],
  strategy: 'failover',
  facility: 'local1',
  structuredDataFields: ['reqId', 'method', 'url', 'statusCode', 'durationMs'],
  structuredDataId: 'http@32473',
  pool: { probeIntervalMs: 200, reconnect: { minDelayMs: 100, maxDelayMs: 1_000 } },
};
// The transport is created apart from the logger, so the shutdown below can wait for it to close.
const transport = pino.transport({ target: 'resilient-syslog/pino', options: transportOptions });
const logger = pino({ name: 'orders-api' }, transport);

let nextRequestId = 1;
const server = http.createServer((request, response) => {
  const started = process.hrtime.bigint();
  const reqId = `req-${nextRequestId++}`;
  const statusCode = request.url === '/missing' ? 404 : 200;
  response.writeHead(statusCode, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ reqId }));
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const fields = { reqId, method: request.method, url: request.url, statusCode, durationMs };
  if (statusCode >= 400) logger.warn(fields, 'request failed');
  else logger.info(fields, 'request served');
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
logger.info({ port }, 'orders-api listening');
console.log(`orders-api on http://127.0.0.1:${port}`);
console.log(`primary collector tcp://127.0.0.1:${primaryPort}, backup tcp://127.0.0.1:${backupPort}\n`);

for (let n = 1; n <= REQUESTS; n += 1) {
  if (n === REQUESTS / 2) {
    console.log(`killing the primary collector before request ${n}`);
    collectors.stop('primary');
  }
  const path = n % 10 === 0 ? '/missing' : `/orders/${n}`;
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  await response.arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 25));
}

server.close();
await once(server, 'close');
logger.info('orders-api stopped');

// Ending the transport ends the worker's stream: its close callback waits for sender.close(),
// so the last lines are delivered before 'close' fires.
transport.end();
await once(transport, 'close');

const { primary, backup } = await collectors.messages();
console.log(`\nprimary received ${primary.length} lines, backup received ${backup.length}`);
console.log(`logged ${REQUESTS + 2}; lines sent just before the kill may arrive at both collectors`);
console.log(`a failed request as the backup received it:\n  ${backup.find((line) => line.includes('request failed')) ?? '(none)'}`);
await collectors.close();
