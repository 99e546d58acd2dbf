import type { TokenOwner } from '../db/repositories/tokens.ts';

/**
 * The token owners this worker has verified, by prefix, with the sealed auth-cache entry
 * they were read from. Never an authority on its own: a remembered owner is used only in
 * the admission round trip that also checks Redis still holds that very entry (a
 * revocation or a plan change deletes it, so the next request sees the change), and the
 * presented secret is checked against it first. What it saves is the MAC check and
 * JSON parse of the entry on every request, and the round trip that fetched it.
 */
export interface Remembered {
  sealed: string;
  owner: TokenOwner;
}

const MAX_REMEMBERED = 10_000;

export class OwnerMemo {
  // A Map iterates in insertion order: when full, the first remembered goes first. Not an
  // LRU on purpose (a move on every read costs more than a forgotten token's one extra
  // round trip).
  private readonly entries = new Map<string, Remembered>();

  get(prefix: string): Remembered | undefined {
    return this.entries.get(prefix);
  }

  set(prefix: string, remembered: Remembered): void {
    this.entries.delete(prefix);
    if (this.entries.size >= MAX_REMEMBERED) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(prefix, remembered);
  }

  delete(prefix: string): void {
    this.entries.delete(prefix);
  }
}
