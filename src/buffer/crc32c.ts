/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4 and
 * hypercore. Node 20 has no CRC in `zlib`, so it is computed here with slicing-by-8 tables:
 * eight lookups per eight input bytes.
 */

const POLYNOMIAL = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n += 1) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t += 1) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables();

/**
 * Updates a running CRC-32C with `data[start, end)`. Start with `crc = 0`; the result of one
 * call is the `crc` argument of the next, so a checksum can span several buffers.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  let c = ~crc >>> 0;
  let i = start;
  while (end - i >= 8) {
    const low = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      T7[low & 0xff] ^
      T6[(low >>> 8) & 0xff] ^
      T5[(low >>> 16) & 0xff] ^
      T4[low >>> 24] ^
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
