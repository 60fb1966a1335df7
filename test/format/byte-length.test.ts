import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFormatter } from '../../src/format/index.js';
import type { FormatOptions } from '../../src/format/index.js';
import { F5424 } from './fixtures.js';

/**
 * The sender queues `formatter.byteLength` as the record's size and the TCP transport writes it
 * as MSG-LEN, so a wrong count corrupts every frame after it. These cases compare it with
 * Buffer's own count of the returned string.
 */

const PIECES = ['a', 'plain text ', 'ü', 'Grüße', '日本', '😀', '\uFEFF', '\uD800', '\uDFFF', '\n', ' ', '"', ']', '\\'];

/** A small linear congruential generator, so that every run checks the same inputs. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function randomText(random: () => number, maxPieces: number): string {
  let text = '';
  const count = Math.floor(random() * (maxPieces + 1));
  for (let index = 0; index < count; index += 1) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

function assertCounts(formatter: MessageFormatter, event: Parameters<MessageFormatter['format']>[0], label: string): void {
  const output = formatter.format(event);
  assert.equal(formatter.byteLength, Buffer.byteLength(output, 'utf8'), `${label}: ${JSON.stringify(output)}`);
}

const VARIANTS: Array<[string, FormatOptions]> = [
  ['RFC 5424, BOM auto', F5424],
  ['RFC 5424, BOM always', { ...F5424, bom: 'always' }],
  ['RFC 5424, BOM never', { ...F5424, bom: 'never' }],
  ['RFC 5424, sequenceId', { ...F5424, sequenceId: true }],
  ['RFC 5424, cut at 120 bytes', { ...F5424, maxMessageBytes: 120 }],
  ['RFC 3164', { ...F5424, format: 'rfc3164' }],
  ['RFC 3164, cut at 80 bytes', { ...F5424, format: 'rfc3164', maxMessageBytes: 80 }],
];

for (const [name, options] of VARIANTS) {
  test(`byteLength - matches Buffer count: ${name}`, () => {
    const formatter = new MessageFormatter(options);
    const random = generator(42);
    for (let round = 0; round < 2_000; round += 1) {
      const message = randomText(random, 12);
      assertCounts(formatter, message, `string event ${round}`);
      assertCounts(
        formatter,
        {
          message,
          hostname: randomText(random, 3) || undefined,
          appName: randomText(random, 3) || undefined,
          msgId: randomText(random, 2) || undefined,
          structuredData: random() < 0.5 ? undefined : { 'origin@32473': { note: randomText(random, 6) } },
        },
        `event object ${round}`,
      );
    }
  });
}

test('byteLength - counts a BOM that the message already carries', () => {
  for (const bom of ['auto', 'always', 'never'] as const) {
    const formatter = new MessageFormatter({ ...F5424, bom });
    assertCounts(formatter, '\uFEFFalready marked', `bom ${bom}`);
    assertCounts(formatter, '\uFEFF', `bom ${bom}, BOM only`);
  }
});
