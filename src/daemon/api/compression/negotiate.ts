/**
 * Content-coding negotiation (RFC 9110 §12.5.3), one function for the API's compression
 * and the web app's precompressed files:
 * - no Accept-Encoding: identity (a client that says nothing gets what it can surely read);
 * - an empty one: identity only;
 * - q-values rank the codings; q=0 refuses one; `*` stands for every coding not listed;
 * - identity is acceptable unless refused (`identity;q=0`, or `*;q=0` without identity),
 *   at the weight it is given, else at the lowest weight anything is given;
 * - a tie goes to the server's order (br before gzip: smaller at the same cost);
 * - nothing acceptable: null, which the caller answers with 406.
 */
export type Coding = 'br' | 'gzip';
export type Negotiated = Coding | 'identity';

export const SERVER_PREFERENCE: readonly Coding[] = ['br', 'gzip'];

/** A qvalue is 0–1 with at most three decimals; anything else makes the entry invalid. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

function parse(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const entry of header.split(',')) {
    const [rawName, ...params] = entry.split(';').map((part) => part.trim());
    const name = rawName?.toLowerCase();
    if (!name) continue;
    let q = 1;
    let valid = true;
    for (const param of params) {
      const [key, value] = param.split('=').map((part) => part.trim());
      if (key?.toLowerCase() !== 'q') continue;
      if (value === undefined || !QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    if (!valid) continue;
    // x-gzip is gzip (RFC 9110 §8.4.1.3); the highest weight wins when a name repeats.
    const key = name === 'x-gzip' ? 'gzip' : name;
    weights.set(key, Math.max(q, weights.get(key) ?? 0));
  }
  return weights;
}

/**
 * The answers for the server's own codings by header: clients send a handful of distinct
 * Accept-Encoding values, and parsing one costs more than the rest of a cached read's
 * header work. Bounded, and only short headers, since anyone can send anything.
 */
const remembered = new Map<string, Negotiated | null>();
const REMEMBERED_MAX = 256;
const REMEMBERED_HEADER_MAX = 128;

export function negotiateEncoding(
  header: string | undefined,
  available: readonly Coding[] = SERVER_PREFERENCE,
): Negotiated | null {
  if (header === undefined) return 'identity';
  if (available !== SERVER_PREFERENCE || header.length > REMEMBERED_HEADER_MAX)
    return negotiate(header, available);
  let answer = remembered.get(header);
  if (answer === undefined) {
    answer = negotiate(header, available);
    if (remembered.size >= REMEMBERED_MAX) remembered.clear();
    remembered.set(header, answer);
  }
  return answer;
}

function negotiate(header: string, available: readonly Coding[]): Negotiated | null {
  const weights = parse(header);
  const star = weights.get('*');
  const weightOf = (coding: string) => weights.get(coding) ?? star ?? 0;
  // Unlisted identity is acceptable (unless `*;q=0`) at the lowest weight the client gave
  // anything: a client that lists codings prefers them to nothing (as negotiator does).
  const positive = [...weights.values()].filter((q) => q > 0);
  const identity = weights.get('identity') ?? (star === 0 ? 0 : positive.length ? Math.min(...positive) : 1);
  let best: Coding | null = null;
  for (const coding of SERVER_PREFERENCE) {
    if (!available.includes(coding)) continue;
    const q = weightOf(coding);
    if (q > 0 && (best === null || q > weightOf(best))) best = coding;
  }
  if (best && weightOf(best) >= identity) return best;
  if (identity > 0) return 'identity';
  return best;
}
