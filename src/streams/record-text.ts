/**
 * Text a source already had for a record's key or value bytes (a replay line holds them as JSON strings),
 * so decoding does not turn the bytes back into the same string. Keyed by the byte array itself, held
 * weakly: records carry no extra field, and the text goes with its bytes.
 */
const texts = new WeakMap<Uint8Array, string>();

/** `String.prototype.isWellFormed` (ES2024, Node ≥ 20), not yet in this project's TypeScript lib. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

/**
 * Remembers that `bytes` are the UTF-8 encoding of `text`. Only well-formed text qualifies: a lone
 * surrogate encodes to U+FFFD, so decoding the bytes would not give `text` back.
 */
export function rememberText(bytes: Uint8Array, text: string): void {
  if ((text as unknown as WellFormedCheck).isWellFormed()) texts.set(bytes, text);
}

/** The text `bytes` decode to, when a source recorded it; else undefined. */
export function knownText(bytes: Uint8Array): string | undefined {
  return texts.get(bytes);
}
