import { afterEach, describe, expect, it } from 'vitest';
import { named, setNamedStatements } from '../../src/daemon/db/named.ts';

afterEach(() => setNamedStatements(false));

describe('named statements (db/named.ts)', () => {
  it('are off by default: an external database may be a pooler that loses them', () => {
    expect(named('SELECT $1::int', [1])).toEqual({ text: 'SELECT $1::int', values: [1] });
  });

  it('when on, name a text by its hash: the same text the same name, another text another', () => {
    setNamedStatements(true);
    const first = named('SELECT $1::int', [1]);
    expect(first.name).toMatch(/^wuz_[0-9a-f]{16}$/);
    expect(named('SELECT $1::int', [2])).toEqual({ name: first.name, text: 'SELECT $1::int', values: [2] });
    expect(named('SELECT $1::text', ['a']).name).not.toBe(first.name);
  });
});
