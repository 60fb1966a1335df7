/**
 * RELP frames as the librelp specification ("RELP - The Reliable Event Logging Protocol", the
 * doc/relp.md file of librelp) defines them:
 *
 *     RELP-FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *
 * TXNR and DATALEN have 1 to 9 digits, COMMAND has 1 to 32 ASCII letters, and DATALEN counts the
 * octets of DATA. A frame without data ends right after DATALEN with LF.
 */
import { Buffer } from 'node:buffer';
import { RelpProtocolError } from '../errors.js';

/** Largest transaction number; the one after it is 1. Transaction number 0 is reserved for hints. */
export const MAX_TXNR = 999_999_999;

/** Largest DATALEN that fits the frame's nine digits. */
export const MAX_DATALEN = 999_999_999;

/** Returns the transaction number after `txnr`, wrapping from `MAX_TXNR` to 1. */
export function nextTxnr(txnr: number): number {
  return txnr >= MAX_TXNR ? 1 : txnr + 1;
}

/** One received frame. `data` is empty when DATALEN is 0. */
export interface RelpFrame {
  txnr: number;
  command: string;
  data: Buffer;
}

/** Encodes a frame whose data is plain text; `data` must not be longer than `MAX_DATALEN` bytes in UTF-8. */
export function encodeFrame(txnr: number, command: string, data = ''): Buffer {
  const payload = Buffer.from(data, 'utf8');
  const header = payload.length === 0 ? `${txnr} ${command} 0` : `${txnr} ${command} ${payload.length} `;
  return Buffer.concat([Buffer.from(header, 'latin1'), payload, LF_BUFFER]);
}

const LF = 0x0a;
const SP = 0x20;
const LF_BUFFER = Buffer.from([LF]);
const EMPTY = Buffer.alloc(0);

/** Result of one `RelpFrameParser.push` call. */
export interface ParseResult {
  /** Every frame completed by the chunk, in order, up to the first invalid byte. */
  frames: RelpFrame[];
  /** Set when the stream broke the grammar; the frames before the break are still valid. */
  error?: RelpProtocolError;
}

/**
 * Splits a byte stream into RELP frames. Chunks may end anywhere, even inside a header. After a
 * frame that breaks the grammar, or announces more than `maxDataBytes` of data, the stream
 * cannot be resynchronized: `push` reports the error then and on every later call.
 */
export class RelpFrameParser {
  private pending: Buffer = EMPTY;
  private failure: RelpProtocolError | undefined;

  constructor(private readonly maxDataBytes = 128 * 1024) {}

  /** Appends `chunk` and returns the frames it completes. */
  push(chunk: Buffer): ParseResult {
    if (this.failure !== undefined) return { frames: [], error: this.failure };
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: RelpFrame[] = [];
    let offset = 0;
    try {
      for (;;) {
        const end = this.parseFrame(buffer, offset, frames);
        if (end < 0) break;
        offset = end;
      }
    } catch (error) {
      if (!(error instanceof RelpProtocolError)) throw error;
      this.failure = error;
      this.pending = EMPTY;
      return { frames, error };
    }
    // Copy the partial frame so that the chunk it came from can be freed.
    this.pending = offset === buffer.length ? EMPTY : Buffer.from(buffer.subarray(offset));
    return { frames };
  }

  /** Parses one frame at `start`, appends it to `frames` and returns the offset after it, or -1 when the buffer ends first. */
  private parseFrame(buffer: Buffer, start: number, frames: RelpFrame[]): number {
    if (start >= buffer.length) return -1;

    const txnr = readNumber(buffer, start, 'TXNR');
    if (txnr === undefined) return -1;
    expectByte(buffer, txnr.end, SP, 'a space after TXNR');

    const command = readCommand(buffer, txnr.end + 1);
    if (command === undefined) return -1;

    const dataLength = readNumber(buffer, command.end + 1, 'DATALEN');
    if (dataLength === undefined) return -1;
    if (dataLength.value > this.maxDataBytes) {
      throw new RelpProtocolError(
        `RELP frame ${txnr.value} ${command.name} announces ${dataLength.value} bytes of data, more than the limit of ${this.maxDataBytes}`,
      );
    }

    if (dataLength.value === 0) {
      expectByte(buffer, dataLength.end, LF, 'LF after DATALEN 0');
      frames.push({ txnr: txnr.value, command: command.name, data: EMPTY });
      return dataLength.end + 1;
    }

    expectByte(buffer, dataLength.end, SP, 'a space after DATALEN');
    const dataStart = dataLength.end + 1;
    const trailer = dataStart + dataLength.value;
    if (trailer >= buffer.length) return -1;
    expectByte(buffer, trailer, LF, `LF after ${dataLength.value} bytes of data`);
    frames.push({ txnr: txnr.value, command: command.name, data: buffer.subarray(dataStart, trailer) });
    return trailer + 1;
  }
}

/** Reads 1 to 9 digits at `start`; returns undefined when the buffer ends before the field does. */
function readNumber(buffer: Buffer, start: number, field: string): { value: number; end: number } | undefined {
  let value = 0;
  let index = start;
  while (index < buffer.length) {
    const byte = buffer[index];
    if (byte < 0x30 || byte > 0x39) break;
    if (index - start === 9) throw new RelpProtocolError(`Invalid RELP frame: ${field} has more than 9 digits`);
    value = value * 10 + (byte - 0x30);
    index += 1;
  }
  if (index === buffer.length) return undefined;
  if (index === start) throw invalidByte(buffer, index, `a digit of ${field}`);
  return { value, end: index };
}

/** Reads 1 to 32 ASCII letters and the space after them; returns undefined when the buffer ends first. */
function readCommand(buffer: Buffer, start: number): { name: string; end: number } | undefined {
  let index = start;
  while (index < buffer.length) {
    const byte = buffer[index];
    const letter = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    if (!letter) break;
    if (index - start === 32) throw new RelpProtocolError('Invalid RELP frame: COMMAND has more than 32 letters');
    index += 1;
  }
  if (index === buffer.length) return undefined;
  if (index === start) throw invalidByte(buffer, index, 'a letter of COMMAND');
  expectByte(buffer, index, SP, 'a space after COMMAND');
  return { name: buffer.toString('latin1', start, index), end: index };
}

/** Throws unless the byte at `index` is `expected`; a byte past the end is not checked here. */
function expectByte(buffer: Buffer, index: number, expected: number, description: string): void {
  if (index < buffer.length && buffer[index] !== expected) throw invalidByte(buffer, index, description);
}

function invalidByte(buffer: Buffer, index: number, expected: string): RelpProtocolError {
  return new RelpProtocolError(`Invalid RELP frame: expected ${expected}, received byte 0x${buffer[index].toString(16).padStart(2, '0')}`);
}

/** The data of an `rsp` frame: `STATUS [SP HUMANMSG] [LF BODY]`. */
export interface RelpResponse {
  /** Three-digit status; 200 is success, anything else an error. */
  status: number;
  /** The human-readable text after the status, such as `OK`. */
  text: string;
  /** Text after the first LF: the server's offers in the response to `open`. */
  body: string;
}

/** Parses the data of an `rsp` frame; throws `RelpProtocolError` unless it starts with a three-digit status. */
export function parseResponse(data: Buffer): RelpResponse {
  const text = data.toString('utf8');
  const lineEnd = text.indexOf('\n');
  const firstLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const match = /^(\d{3})(?: (.*))?$/.exec(firstLine);
  if (match === null) {
    throw new RelpProtocolError(`Invalid RELP response ${JSON.stringify(firstLine.slice(0, 80))}: expected a three-digit status`);
  }
  return { status: Number(match[1]), text: match[2] ?? '', body: lineEnd < 0 ? '' : text.slice(lineEnd + 1) };
}

/**
 * Parses offers, one per line as `name` or `name=value[,value...]`, into a map from name to
 * values. Blank lines are skipped.
 */
export function parseOffers(text: string): Map<string, string[]> {
  const offers = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const equals = line.indexOf('=');
    if (equals < 0) offers.set(line, []);
    else offers.set(line.slice(0, equals), line.slice(equals + 1).split(','));
  }
  return offers;
}
