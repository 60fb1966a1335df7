/** Byte order mark U+FEFF, which UTF-8 encodes as EF BB BF. */
export const BOM = '\uFEFF';

/** Policy for a BOM at the start of RFC 5424 MSG (RFC 5424 section 6.4): only before non-ASCII text, always, or never. */
export type BomPolicy = 'auto' | 'always' | 'never';

export const BOM_POLICIES: readonly BomPolicy[] = ['auto', 'always', 'never'];

/** Returns `<PRI>1 `, the start of an RFC 5424 HEADER up to the TIMESTAMP (RFC 5424 section 6.2). */
export function rfc5424Start(priority: number): string {
  return `<${priority}>1 `;
}

/**
 * Returns the RFC 5424 HEADER and STRUCTURED-DATA: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID
 * MSGID SD` (RFC 5424 section 6). `start` is `rfc5424Start(priority)` and `headerFields` the four
 * header fields from HOSTNAME to MSGID joined by spaces, all printable US-ASCII.
 */
export function rfc5424Header(start: string, timestamp: string, headerFields: string, structuredData: string): string {
  return `${start}${timestamp} ${headerFields} ${structuredData}`;
}

/**
 * Assembles one RFC 5424 SYSLOG-MSG from `header` (see `rfc5424Header`) and MSG. An empty MSG
 * ends the message right after the STRUCTURED-DATA, with no trailing space and no BOM.
 *
 * The BOM goes right after the space that follows STRUCTURED-DATA. With `auto` it is added only
 * when MSG contains a non-ASCII character, because pure ASCII is valid as MSG-ANY. A MSG that
 * already starts with a BOM keeps it (and gets no second one) unless the policy is `never`,
 * which removes it.
 *
 * The UTF-8 length of the result is `rfc5424Bytes(header, headerBytes, message, messageBytes,
 * result)`, computed without counting the assembled string again. `headerAndSpace` is `header`
 * followed by one space, so that a caller reusing one header for many messages joins it once.
 */
export function assembleRfc5424(
  header: string,
  message: string,
  messageBytes: number,
  bom: BomPolicy,
  headerAndSpace: string,
): string {
  let text = message;
  if (text.startsWith(BOM)) {
    if (bom === 'never') text = text.slice(BOM.length);
  } else if (bom === 'always' || (bom === 'auto' && messageBytes !== message.length)) {
    if (text !== '') text = BOM + text;
  }
  return text === '' ? header : headerAndSpace + text;
}

/**
 * Returns the UTF-8 length of `assembled`, which `assembleRfc5424(header, message, ...)` returned,
 * from the lengths of its parts: `headerBytes` of `header` and `messageBytes` of `message`.
 */
export function rfc5424Bytes(header: string, headerBytes: number, message: string, messageBytes: number, assembled: string): number {
  if (assembled.length === header.length) return headerBytes;
  // MSG as assembled differs from `message` by at most one BOM: one UTF-16 code unit, 3 UTF-8 bytes.
  const bomChange = assembled.length - header.length - 1 - message.length;
  return headerBytes + 1 + messageBytes + 3 * bomChange;
}
