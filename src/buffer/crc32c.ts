/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and
 * hypercore. Node.js has no CRC-32C function (`zlib.crc32` in Node 20.20 computes the IEEE
 * CRC-32), so it is computed here with slicing-by-16 tables: sixteen lookups per sixteen input
 * bytes, then eight per eight, then one per byte.
 */

const POLYNOMIAL = 0x82f63b78;
const TABLE_COUNT = 16;

/**
 * Builds the lookup tables: table 0 is the CRC of each byte value, and table `t` the CRC of
 * that byte followed by `t` zero bytes. Int32Array, because V8 keeps int32 values unboxed.
 */
function buildTables(): Int32Array[] {
  const tables = Array.from({ length: TABLE_COUNT }, () => new Int32Array(256));
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n += 1) {
    let c = tables[0][n];
    for (let t = 1; t < TABLE_COUNT; t += 1) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15] = buildTables();

/**
 * Updates a running CRC-32C with `data[start, end)`. Start with `crc = 0`; the result of one
 * call is the `crc` argument of the next, so a checksum can span several buffers.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc;
  let i = start;
  while (end - i >= 16) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    c =
      T15[c & 0xff] ^
      T14[(c >>> 8) & 0xff] ^
      T13[(c >>> 16) & 0xff] ^
      T12[c >>> 24] ^
      T11[data[i + 4]] ^
      T10[data[i + 5]] ^
      T9[data[i + 6]] ^
      T8[data[i + 7]] ^
      T7[data[i + 8]] ^
      T6[data[i + 9]] ^
      T5[data[i + 10]] ^
      T4[data[i + 11]] ^
      T3[data[i + 12]] ^
      T2[data[i + 13]] ^
      T1[data[i + 14]] ^
      T0[data[i + 15]];
    i += 16;
  }
  if (end - i >= 8) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    c =
      T7[c & 0xff] ^
      T6[(c >>> 8) & 0xff] ^
      T5[(c >>> 16) & 0xff] ^
      T4[c >>> 24] ^
      T3[data[i + 4]] ^
      T2[data[i + 5]] ^
      T1[data[i + 6]] ^
      T0[data[i + 7]];
    i += 8;
  }
  while (i < end) {
    c = T0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
    i += 1;
  }
  return ~c >>> 0;
}

/** Returns the 16 lookup tables one after the other (table 0 first), as the WebAssembly version expects them. */
export function crc32cTable(): Int32Array {
  const flat = new Int32Array(TABLE_COUNT * 256);
  [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15].forEach((table, index) =>
    flat.set(table, index * 256),
  );
  return flat;
}
