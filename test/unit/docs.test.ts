import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tenantsCommand } from '../../src/cli/commands/tenants.ts';
import { GATES } from '../../src/cli/verify/registry.ts';
import { CONFIG_SECTIONS, serveOptionRows } from '../../src/daemon/config/options.ts';

describe('docs/CONFIGURATION.md', () => {
  it('documents every serve flag and environment variable', async () => {
    const doc = await readFile(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
    const missing = serveOptionRows.flatMap((option) => [
      ...(doc.includes(`\`${option.env}\``) ? [] : [option.env]),
      ...(option.flag && !doc.includes(`\`${option.flag}\``) ? [option.flag] : []),
    ]);
    expect(missing).toEqual([]);
  });

  it('documents each option in a table row (its flag, its variable) under the section its row names', async () => {
    const lines = (await readFile(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8')).split(
      '\n',
    );
    // The heading (#, ## or ###) each line sits under.
    let heading = '';
    const sectionOf = lines.map((line) => {
      heading = /^#{1,3} (.+)$/.exec(line)?.[1] ?? heading;
      return heading;
    });
    const found = serveOptionRows.map((option) => {
      const row = lines.findIndex((line) => {
        const [flag, env] = line
          .split('|')
          .slice(1, 3)
          .map((cell) => cell.trim());
        return flag === (option.flag ? `\`${option.flag}\`` : '—') && env === `\`${option.env}\``;
      });
      return { option: option.key, section: row === -1 ? '(no table row)' : sectionOf[row] };
    });
    expect(found).toEqual(serveOptionRows.map((option) => ({ option: option.key, section: option.section })));
  });

  it('has a heading for every section of the option table, in its order, and no empty one', async () => {
    const text = await readFile(new URL('../../docs/CONFIGURATION.md', import.meta.url), 'utf8');
    const headings = [...text.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(
      headings.filter((heading) => (CONFIG_SECTIONS as readonly string[]).includes(heading as string)),
    ).toEqual([...CONFIG_SECTIONS]);
    for (const section of CONFIG_SECTIONS) {
      expect(
        serveOptionRows.some((option) => option.section === section),
        section,
      ).toBe(true);
    }
  });
});

describe('README.md', () => {
  it('names every gate wuzctl verify runs', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const verifyRow = readme.split('\n').find((line) => line.startsWith('| `wuzctl verify')) ?? '';
    expect(GATES.map((gate) => gate.name).filter((name) => !verifyRow.includes(`\`${name}\``))).toEqual([]);
  });

  it('says what `tenants set-plan --help` says', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const setPlan = tenantsCommand().commands.find((command) => command.name() === 'set-plan');
    const row = readme.split('\n').find((line) => line.startsWith('| `wuzctl tenants set-plan')) ?? '';
    expect(row).toContain(setPlan?.description());
  });
});

describe('docs/README.md', () => {
  it('indexes every page of docs/, and links nothing that is not there', async () => {
    const dir = new URL('../../docs/', import.meta.url);
    const pages = (await readdir(dir)).filter((name) => name.endsWith('.md') && name !== 'README.md');
    const index = await readFile(new URL('README.md', dir), 'utf8');
    const linked = [...index.matchAll(/\]\(([\w.-]+\.md)\)/g)].map((match) => match[1]);
    expect([...new Set(linked)].sort()).toEqual(pages.sort());
  });
});
