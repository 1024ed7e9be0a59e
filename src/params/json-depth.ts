// Refusing deeply nested JSON before parsing it: deep nesting costs nothing to send and a lot
// to every recursive step after the parse (the structured clone to a worker, schema validation,
// serialising it back), where a few thousand levels overflow the stack.

/** How deep arrays and objects may nest in a JSON body unless the server says otherwise. */
export const defaultJsonDepthLimit = 256;

const quote = 0x22;
const backslash = 0x5c;
const openBracket = 0x5b;
const openBrace = 0x7b;
const closeBracket = 0x5d;
const closeBrace = 0x7d;

/**
 * Whether `[` and `{` nest deeper than `limit` in the UTF-8 bytes of a JSON text, counting only
 * outside strings. One linear pass over the bytes: UTF-8 never uses ASCII bytes inside a
 * multi-byte character, so the structural characters cannot be mistaken. A body shorter than
 * `limit` bytes cannot nest deeper and is not scanned.
 *
 *     jsonNestedDeeperThan(Buffer.from('[[["]]]]"]]]'), 2)  // → true (the brackets in the string do not count)
 */
export function jsonNestedDeeperThan(bytes: Uint8Array, limit: number): boolean {
  if (bytes.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === backslash) i++;
      else if (byte === quote) inString = false;
    } else if (byte === quote) {
      inString = true;
    } else if (byte === openBracket || byte === openBrace) {
      if (++depth > limit) return true;
    } else if (byte === closeBracket || byte === closeBrace) {
      depth--;
    }
  }
  return false;
}
