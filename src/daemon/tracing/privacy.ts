import type { Attributes, AttributeValue } from '@opentelemetry/api';

/**
 * What may leave the process in a span. Instrumentations record what they see (a query
 * string, an exception's message, a URL); a trace store is read by more people than the
 * database is, so every attribute goes through these rules before export: no tokens,
 * Authorization values, Stripe secrets, phone numbers or message bodies.
 */
export const REDACTED = '[redacted]';

/** Keys whose value is never exported, whatever it looks like. */
const SECRET_KEY = /authorization|cookie|password|passwd|secret|token|api[-_.]?key|session[-_.]?id/i;

/** Values that are secrets or personal data wherever they appear in a string. */
const SECRET_VALUES: RegExp[] = [
  /\bBearer\s+[^\s"',;]+/gi,
  /\bBasic\s+[A-Za-z0-9+/=]{8,}/g,
  // Stripe keys and webhook secrets (sk_live_…, rk_test_…, whsec_…).
  /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}\b/g,
  /\bwhsec_[A-Za-z0-9]{8,}\b/g,
  // Our own API tokens (wuz_…) and anything shaped like a long random credential.
  /\bwuz_[A-Za-z0-9_-]{16,}\b/g,
  // Phone numbers: E.164 with or without "+", digits possibly grouped by spaces or dashes
  // (not a run of digits inside an identifier, such as the last group of a UUID).
  /(?<![\w-])\+?\d(?:[ -]?\d){9,14}(?![\w-])/g,
  // E-mail addresses (logins, contact data).
  /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g,
];

/** Attributes that carry a query string or a URL: every query value is hidden, keys stay. */
const QUERY_KEYS = new Set(['url.query', 'http.target']);
const URL_KEYS = new Set(['url.full', 'http.url']);

export function scrubString(value: string): string {
  let out = value;
  for (const pattern of SECRET_VALUES) out = out.replace(pattern, REDACTED);
  return out;
}

/** `a=1&b=x` → `a=[redacted]&b=[redacted]`: which parameters were sent, not their values. */
export function scrubQuery(query: string): string {
  const bare = query.startsWith('?') ? query.slice(1) : query;
  if (bare === '') return query;
  const scrubbed = bare
    .split('&')
    .map((pair) => {
      const name = pair.split('=')[0] ?? '';
      return pair.includes('=') ? `${name}=${REDACTED}` : name;
    })
    .join('&');
  return query.startsWith('?') ? `?${scrubbed}` : scrubbed;
}

export function scrubUrl(value: string): string {
  const queryAt = value.indexOf('?');
  const base = queryAt === -1 ? value : value.slice(0, queryAt);
  const query = queryAt === -1 ? '' : scrubQuery(value.slice(queryAt));
  // user:password@host never leaves either.
  return scrubString(base.replace(/\/\/[^/@]*@/, '//')) + query;
}

/** SQL without literals: parameters are placeholders already; a literal in the text is hidden too. */
export function scrubSql(statement: string): string {
  return scrubString(statement.replace(/'(?:[^']|'')*'/g, "'?'"));
}

function scrubValue(key: string, value: AttributeValue): AttributeValue {
  if (SECRET_KEY.test(key)) return REDACTED;
  if (typeof value === 'string') {
    if (QUERY_KEYS.has(key)) return scrubQuery(value);
    if (URL_KEYS.has(key)) return scrubUrl(value);
    if (key === 'db.query.text' || key === 'db.statement') return scrubSql(value);
    return scrubString(value);
  }
  if (Array.isArray(value)) {
    return value.map((item) => (typeof item === 'string' ? scrubString(item) : item)) as AttributeValue;
  }
  return value;
}

/** A scrubbed copy; the same object when nothing had to change (the common case). */
export function scrubAttributes(attributes: Attributes): Attributes {
  let copy: Attributes | undefined;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    const scrubbed = scrubValue(key, value);
    if (scrubbed !== value && JSON.stringify(scrubbed) !== JSON.stringify(value)) {
      copy ??= { ...attributes };
      copy[key] = scrubbed;
    }
  }
  return copy ?? attributes;
}
