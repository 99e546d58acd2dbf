import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uuidList } from '../../src/daemon/api/validate.ts';

describe('uuidList (a campaign audience of contact ids)', () => {
  const ids = uuidList(3, { min: 'must hold at least one', max: 'must hold at most 3' });
  const issues = (value: unknown) => {
    const result = ids.safeParse(value);
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path, message: i.message }));
  };

  it('accepts ids and lower-cases them', () => {
    const id = randomUUID();
    expect(ids.parse([id.toUpperCase()])).toEqual([id]);
  });

  it('says what is wrong, naming the element, like z.array(uuid).min().max()', () => {
    expect(issues([])).toEqual([{ path: [], message: 'must hold at least one' }]);
    expect(issues([randomUUID(), randomUUID(), randomUUID(), randomUUID()])).toEqual([
      { path: [], message: 'must hold at most 3' },
    ]);
    expect(issues([randomUUID(), 'nope', 7])).toEqual([
      { path: [1], message: 'must be an id (UUID)' },
      { path: [2], message: 'must be an id (UUID)' },
    ]);
    expect(issues('nope')).toEqual([{ path: [], message: 'must be an array of ids' }]);
  });
});
