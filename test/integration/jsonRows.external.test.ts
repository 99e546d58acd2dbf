import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTimestamp, jsonRowTypes } from '../../src/daemon/db/jsonRows.ts';
import { adminClient } from '../helpers/external.ts';

// The list routes read timestamps as the text JSON prints (db/jsonRows.ts) instead of
// Dates. Whatever PostgreSQL prints — every fraction length, no fraction, early years,
// another time zone, infinity, BC — the JSON must be byte for byte what pg's own parser
// gave. PostgreSQL itself prints the values here; nothing is written.

let client: pg.Client;
beforeAll(async () => {
  client = await adminClient();
});
afterAll(() => client?.end());

/** The same statement read with pg's defaults and with jsonRowTypes, serialized. */
async function bothWays(sql: string): Promise<[string, string, number]> {
  const plain = await client.query(sql);
  const json = await client.query({ text: sql, types: jsonRowTypes });
  return [JSON.stringify(plain.rows), JSON.stringify(json.rows), plain.rowCount ?? 0];
}

// 2,000 instants, a few microseconds to days apart, with 0 to 6 digits of fraction.
const SPREAD = `
  SELECT t, t AS again, NULL::timestamptz AS never, 42 AS n, '{"a": 1}'::jsonb AS doc
    FROM (SELECT timestamptz '2026-12-07 23:11:32.123456+00'
                 + (g::bigint * 7919 * 1013) * interval '1 microsecond'
                 + (g % 7) * interval '1 second' AS t
            FROM generate_series(0, 1999) AS g) s`;

describe('list rows read for JSON (jsonRowTypes)', () => {
  it('serializes every timestamp PostgreSQL prints in UTC exactly as the Date would', async () => {
    await client.query("SET TimeZone = 'UTC'");
    const [plain, json, count] = await bothWays(SPREAD);
    expect(count).toBe(2000);
    expect(json).toBe(plain);
    // …and without building a Date: the row holds the text itself.
    const { rows } = await client.query({ text: SPREAD, types: jsonRowTypes });
    expect(typeof rows[0].t).toBe('string');
    expect(rows[0].n).toBe(42); // other types as pg parses them
    expect(rows[0].doc).toEqual({ a: 1 });
  });

  it('gives the same JSON for the values it leaves to pg: early years, BC, infinity, other zones', async () => {
    const odd = `SELECT unnest(ARRAY[
        '0099-03-04 05:06:07.5+00', '1969-12-31 23:59:59.999999+00', '2000-01-01 00:00:00+00',
        '0044-03-15 12:00:00+00 BC', 'infinity', '-infinity', '2026-06-01 12:00:00.000001+00'
      ]::timestamptz[]) AS t`;
    for (const zone of ['UTC', 'America/Sao_Paulo', 'Asia/Kolkata']) {
      await client.query(`SET TimeZone = '${zone}'`);
      const [plain, json] = await bothWays(odd);
      expect(json).toBe(plain);
      const [plainSpread, jsonSpread] = await bothWays(SPREAD);
      expect(jsonSpread).toBe(plainSpread);
    }
    await client.query('RESET TimeZone');
  });

  it('leaves text that is not a UTC ISO timestamp to pg’s parser', () => {
    expect(isoTimestamp('2026-12-07 23:11:32.57+00')).toBe('2026-12-07T23:11:32.570Z');
    expect(isoTimestamp('2026-12-07 23:11:32+00')).toBe('2026-12-07T23:11:32.000Z');
    expect(isoTimestamp('2026-12-07 20:11:32.5-03')).toBeInstanceOf(Date);
    expect(isoTimestamp('infinity')).toBe(Number.POSITIVE_INFINITY);
  });
});
