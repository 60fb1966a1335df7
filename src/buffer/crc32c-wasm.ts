import { Buffer } from 'node:buffer';
import { crc32cTable } from './crc32c.js';
import { RECORD_HEADER_BYTES, checkSealRange, unsealableRecordError } from './record-format.js';

/**
 * CRC-32C in WebAssembly over bytes in the module's own memory, for the DiskBuffer's write
 * batch. It uses the same sixteen tables as `crc32c`, but it reads sixteen input bytes with
 * four 32-bit loads and has no per-byte bounds checks. `benchmarks/crc32c.ts` measures it
 * against `crc32c` on 186-byte records, and docs/crc32c-benchmark.md records the results.
 *
 * The module is assembled below from its instructions (there is no binary to trust), and its
 * memory contains the sixteen lookup tables at offset 0 followed by the caller's bytes. It
 * exports two functions: `crc` over one byte range, and `seal`, which walks a batch of records
 * and stores each record's checksum with one call from JavaScript per batch.
 */

/** Memory the module reserves for its lookup tables: 16 tables of 256 32-bit entries. */
const TABLE_BYTES = 16 * 256 * 4;
const PAGE_BYTES = 64 * 1024;

/** A WebAssembly memory with room for `size` bytes at `offset`, and the CRC-32C of bytes in it. */
export interface CrcArena {
  /** The caller's bytes: `size` bytes of the module memory from `offset`. */
  readonly bytes: Buffer;
  readonly offset: number;
  /** Updates `crc` with `length` bytes starting at `bytes[start]`, like `crc32c(bytes, crc, start, start + length)`. */
  crc(start: number, length: number, crc: number): number;
  /**
   * Stores the checksum of every record in `bytes[start, end)`, which must contain whole
   * records back to back (see record-format.ts). Each checksum goes little-endian at offset 4
   * of its record, as `sealRecordsJs` stores it. Throws a RangeError for a range outside
   * `bytes`, and an Error when a length field is below 16 or runs past `end`, after sealing
   * the records before it. Reads and writes only inside `[start, end)`.
   */
  sealRecords(start: number, end: number): void;
}

// Opcodes and type codes of the WebAssembly binary format.
const I32 = 0x7f;
const FUNC_TYPE = 0x60;
const EMPTY_BLOCK = 0x40;
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Store: 0x36,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;

/** Index of the `crc` function in the module, the target of `call` in `seal`. */
const CRC_FUNCTION_INDEX = 0;

function unsignedLeb128(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb128(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

/** Instructions of one function body, with a method per instruction used here. */
class CodeWriter {
  readonly code: number[] = [];

  op(...bytes: number[]): void {
    this.code.push(...bytes);
  }

  get(local: number): void {
    this.code.push(OP.localGet, local);
  }

  set(local: number): void {
    this.code.push(OP.localSet, local);
  }

  constant(value: number): void {
    this.code.push(OP.i32Const, ...signedLeb128(value));
  }

  /** Replaces the address on the stack by the 32-bit word at that address plus `offset`. */
  load(offset: number): void {
    this.code.push(OP.i32Load, 2, ...unsignedLeb128(offset));
  }

  /** Pops a value and an address and stores the value at that address plus `offset`. */
  store(offset: number): void {
    this.code.push(OP.i32Store, 2, ...unsignedLeb128(offset));
  }

  /**
   * Pushes the entry of table `table` for byte `shift / 8` of `local`. The byte is shifted and
   * masked straight into a byte offset (byte * 4), because table `t` entry `i` is at byte
   * `t * 1024 + i * 4`.
   */
  tableEntry(local: number, shift: number, table: number): void {
    this.get(local);
    if (shift === 0) {
      this.constant(2);
      this.op(OP.i32Shl);
    } else {
      this.constant(shift - 2);
      this.op(OP.i32ShrU);
    }
    this.constant(0x3fc);
    this.op(OP.i32And);
    this.load(table * 1024);
  }

  /**
   * Pushes the XOR of the table entries of all four bytes of each word in `words`: byte `b` of
   * word `k` goes through table `firstTable - 4 * k - b`. The last word comes first, because
   * only the first word depends on the running CRC. Its four entries are combined last, so
   * that the CPU can compute the other twelve while the previous step finishes.
   */
  sliceWords(words: number[], firstTable: number): void {
    for (let wordIndex = words.length - 1; wordIndex >= 0; wordIndex -= 1) {
      for (let byteIndex = 0; byteIndex < 4; byteIndex += 1) {
        this.tableEntry(words[wordIndex], 8 * byteIndex, firstTable - 4 * wordIndex - byteIndex);
        if (wordIndex < words.length - 1 || byteIndex > 0) this.op(OP.i32Xor);
      }
    }
  }

  /** Wraps the body of `emit` in `block loop … br 0 end end`: `br_if 1` inside leaves the loop. */
  loop(emit: () => void): void {
    this.op(OP.block, EMPTY_BLOCK, OP.loop, EMPTY_BLOCK);
    emit();
    this.op(OP.br, 0, OP.end, OP.end);
  }
}

/**
 * Returns the body of `crc(pointer, length, crc) -> crc`: sixteen bytes per step through the
 * sixteen tables, then at most one step of eight bytes and one of four, then one byte at a
 * time. Locals: 0 pointer, 1 length, 2 crc, 3 end, 4 to 7 the words of a step.
 */
function crcFunctionBody(): number[] {
  const [POINTER, LENGTH, CRC, END] = [0, 1, 2, 3];
  const WORDS = [4, 5, 6, 7];
  const writer = new CodeWriter();

  /** Pushes 1 when at least `bytes` bytes are left before `end`, else 0. */
  const hasBytesLeft = (bytes: number): void => {
    writer.get(END);
    writer.get(POINTER);
    writer.op(OP.i32Sub);
    writer.constant(bytes);
    writer.op(OP.i32GeU);
  };

  /** Runs the next `4 * wordCount` bytes through tables `4 * wordCount - 1` to 0 and advances the pointer. */
  const step = (wordCount: number): void => {
    const words = WORDS.slice(0, wordCount);
    words.forEach((word, index) => {
      writer.get(POINTER);
      writer.load(4 * index);
      if (index === 0) {
        writer.get(CRC);
        writer.op(OP.i32Xor);
      }
      writer.set(word);
    });
    writer.sliceWords(words, 4 * wordCount - 1);
    writer.set(CRC);
    writer.get(POINTER);
    writer.constant(4 * wordCount);
    writer.op(OP.i32Add);
    writer.set(POINTER);
  };

  // crc = ~crc; end = pointer + length
  writer.get(CRC);
  writer.constant(-1);
  writer.op(OP.i32Xor);
  writer.set(CRC);
  writer.get(POINTER);
  writer.get(LENGTH);
  writer.op(OP.i32Add);
  writer.set(END);

  // while (end - pointer >= 16): sixteen bytes, read as four words
  writer.loop(() => {
    hasBytesLeft(16);
    writer.op(OP.i32Eqz, OP.brIf, 1);
    step(4);
  });

  // if (end - pointer >= 8): eight bytes, then if (end - pointer >= 4): four bytes
  for (const wordCount of [2, 1]) {
    hasBytesLeft(4 * wordCount);
    writer.op(OP.if, EMPTY_BLOCK);
    step(wordCount);
    writer.op(OP.end);
  }

  // while (pointer < end): one byte through table 0
  writer.loop(() => {
    writer.get(POINTER);
    writer.get(END);
    writer.op(OP.i32GeU, OP.brIf, 1);
    writer.get(CRC);
    writer.get(POINTER);
    writer.op(OP.i32Load8U, 0, 0, OP.i32Xor);
    writer.set(WORDS[0]);
    writer.tableEntry(WORDS[0], 0, 0);
    writer.get(CRC);
    writer.constant(8);
    writer.op(OP.i32ShrU, OP.i32Xor);
    writer.set(CRC);
    writer.get(POINTER);
    writer.constant(1);
    writer.op(OP.i32Add);
    writer.set(POINTER);
  });

  // return ~crc
  writer.get(CRC);
  writer.constant(-1);
  writer.op(OP.i32Xor, OP.end);
  return [1, 5, I32, ...writer.code]; // one group of five i32 locals, then the code
}

/**
 * Returns the body of `seal(pointer, end) -> stop`, which walks the records from `pointer` and
 * stores `crc(record + 8, length - 8, crc(record, 4, 0))` at record offset 4. It returns `end`
 * when every record was whole. Otherwise it returns the address of the first record whose
 * length field is below 16 or runs past `end`, or of a tail shorter than 16 bytes. It reads a
 * length field only when 16 bytes remain before `end`, so it touches no byte outside
 * `[pointer, end)`. Locals: 0 pointer, 1 end, 2 length.
 */
function sealFunctionBody(): number[] {
  const [POINTER, END, LENGTH] = [0, 1, 2];
  const writer = new CodeWriter();

  writer.loop(() => {
    // if (end - pointer < 16) break
    writer.get(END);
    writer.get(POINTER);
    writer.op(OP.i32Sub);
    writer.constant(RECORD_HEADER_BYTES);
    writer.op(OP.i32LtU, OP.brIf, 1);

    // length = load(pointer); if (length < 16 || length > end - pointer) break
    writer.get(POINTER);
    writer.load(0);
    writer.set(LENGTH);
    writer.get(LENGTH);
    writer.constant(RECORD_HEADER_BYTES);
    writer.op(OP.i32LtU, OP.brIf, 1);
    writer.get(LENGTH);
    writer.get(END);
    writer.get(POINTER);
    writer.op(OP.i32Sub, OP.i32GtU, OP.brIf, 1);

    // store(pointer + 4, crc(pointer + 8, length - 8, crc(pointer, 4, 0)))
    writer.get(POINTER);
    writer.get(POINTER);
    writer.constant(8);
    writer.op(OP.i32Add);
    writer.get(LENGTH);
    writer.constant(8);
    writer.op(OP.i32Sub);
    writer.get(POINTER);
    writer.constant(4);
    writer.constant(0);
    writer.op(OP.call, CRC_FUNCTION_INDEX, OP.call, CRC_FUNCTION_INDEX);
    writer.store(4);

    // pointer += length
    writer.get(POINTER);
    writer.get(LENGTH);
    writer.op(OP.i32Add);
    writer.set(POINTER);
  });

  writer.get(POINTER);
  writer.op(OP.end);
  return [1, 1, I32, ...writer.code]; // one group of one i32 local, then the code
}

/**
 * Assembles the module: one memory exported as `memory`, function 0 exported as `crc` and
 * function 1 exported as `seal`.
 */
function assembleModule(): Uint8Array {
  const section = (id: number, content: number[]): number[] => [id, ...unsignedLeb128(content.length), ...content];
  const name = (text: string): number[] => [...unsignedLeb128(text.length), ...Buffer.from(text, 'ascii')];
  const sizedBody = (body: number[]): number[] => [...unsignedLeb128(body.length), ...body];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic "\0asm", version 1
    ...section(1, [
      2, // two types
      ...[FUNC_TYPE, 3, I32, I32, I32, 1, I32], // type 0: (i32, i32, i32) -> i32
      ...[FUNC_TYPE, 2, I32, I32, 1, I32], // type 1: (i32, i32) -> i32
    ]),
    ...section(3, [2, 0, 1]), // function 0 has type 0, function 1 has type 1
    ...section(5, [1, 0, 1]), // one memory, at least 1 page, no maximum
    ...section(7, [3, ...name('memory'), 2, 0, ...name('crc'), 0, 0, ...name('seal'), 0, 1]),
    ...section(10, [2, ...sizedBody(crcFunctionBody()), ...sizedBody(sealFunctionBody())]),
  ]);
}

/** The part of the WebAssembly JavaScript API used here, which the project's TypeScript libraries do not declare. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

interface WebAssemblyMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

let compiled: object | null | undefined;

/** Compiles the module once. Returns null where WebAssembly is not available (`node --jitless`). */
function crcModule(): object | null {
  if (compiled === undefined) {
    const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    try {
      compiled = api === undefined ? null : new api.Module(assembleModule());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Creates an arena with room for `size` bytes, or returns null when WebAssembly is not available
 * or cannot give the memory. Each instance reserves address space for as long as it lives, so a
 * process with many thousands of buffers can run out of it. The caller then uses JavaScript.
 */
export function createCrcArena(size: number): CrcArena | null {
  const module = crcModule();
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (module === null || api === undefined) return null;
  let memory: WebAssemblyMemory;
  let crcFunction: (pointer: number, length: number, crc: number) => number;
  let sealFunction: (pointer: number, end: number) => number;
  try {
    const instance = new api.Instance(module, {});
    memory = instance.exports.memory as WebAssemblyMemory;
    crcFunction = instance.exports.crc as typeof crcFunction;
    sealFunction = instance.exports.seal as typeof sealFunction;
    const neededPages = Math.ceil((TABLE_BYTES + size) / PAGE_BYTES);
    memory.grow(neededPages - memory.buffer.byteLength / PAGE_BYTES);
  } catch {
    return null;
  }
  new Int32Array(memory.buffer, 0, TABLE_BYTES / 4).set(crc32cTable());

  const offset = TABLE_BYTES;
  const bytes = Buffer.from(memory.buffer, offset, size);
  return {
    bytes,
    offset,
    crc: (start, length, crc) => crcFunction(offset + start, length, crc) >>> 0,
    sealRecords: (start, end) => {
      checkSealRange(size, start, end);
      const stop = (sealFunction(offset + start, offset + end) >>> 0) - offset;
      if (stop !== end) throw unsealableRecordError(bytes, stop, end);
    },
  };
}
