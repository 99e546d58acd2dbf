import { describe, expect, it } from 'vitest';
import { SLUG_PATTERN, slugify } from '../../src/daemon/db/repositories/tenants.ts';

describe('slugify', () => {
  it.each([
    ['Acme Resellers', 'acme-resellers'],
    ['Açaí & Cia. Ltda.', 'acai-cia-ltda'],
    ['  --Hello__World--  ', 'hello-world'],
    ['Zürich 2026', 'zurich-2026'],
  ])('%j → %j', (name, slug) => {
    expect(slugify(name)).toBe(slug);
    expect(SLUG_PATTERN.test(slug)).toBe(true);
  });

  it('gives an empty slug when nothing is left, which the CLI then refuses', () => {
    expect(slugify('😀 ✨')).toBe('');
    expect(SLUG_PATTERN.test('')).toBe(false);
  });

  it('keeps slugs within 63 characters without a trailing dash', () => {
    const slug = slugify(`${'a'.repeat(62)} b`);
    expect(slug.length).toBeLessThanOrEqual(63);
    expect(slug.endsWith('-')).toBe(false);
  });
});
