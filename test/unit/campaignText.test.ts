import { describe, expect, it } from 'vitest';
import { normalizePhone, readContactsCsv } from '../../src/daemon/workers/csvContacts.ts';
import { renderTemplate, templateVariables } from '../../src/daemon/workers/template.ts';

describe('renderTemplate', () => {
  const contact = { name: 'Ana', phone: '+5511999990001', variables: { city: 'Recife', empty: '' } };

  it('fills name, phone and variables, with fallbacks for empty or missing values', () => {
    expect(renderTemplate('Oi {{name}} ({{ phone }}) de {{city}}', contact)).toBe(
      'Oi Ana (+5511999990001) de Recife',
    );
    expect(renderTemplate('{{empty|vazio}} {{missing|?}} {{missing}}.', contact)).toBe('vazio ? .');
    expect(renderTemplate('{{name|x}}', { ...contact, name: '' })).toBe('x');
    expect(renderTemplate('no {placeholders} {{ }} here', contact)).toBe('no {placeholders} {{ }} here');
  });

  it('lists the variables a template uses, once each', () => {
    expect(templateVariables('{{name}} {{city|x}} {{name}}')).toEqual(['name', 'city']);
  });
});

describe('normalizePhone', () => {
  it('accepts E.164 with or without +, forgiving separators', () => {
    expect(normalizePhone('+55 (11) 99999-0001')).toBe('+5511999990001');
    expect(normalizePhone('5511999990001')).toBe('+5511999990001');
    expect(normalizePhone('+0511999990001')).toBeNull();
    expect(normalizePhone('+1234567')).toBeNull();
    expect(normalizePhone('phone')).toBeNull();
  });
});

describe('readContactsCsv', () => {
  const read = async (text: string) => {
    const rows = [];
    for await (const row of readContactsCsv(text)) rows.push(row);
    return rows;
  };

  it('maps telefone/nome and extra columns, and rejects bad rows with reasons and line numbers', async () => {
    const rows = await read(
      '\uFEFFnome;telefone;Plano Atual\r\nAna;+5511999990001;ouro\r\n;x;\r\nBia;5511999990001;\r\n',
    );
    expect(rows).toEqual([
      { line: 2, contact: { phone: '+5511999990001', name: 'Ana', variables: { Plano_Atual: 'ouro' } } },
      { line: 3, reason: 'invalid phone (not E.164)', phone: 'x' },
      { line: 4, reason: 'duplicate phone in the file', phone: '+5511999990001' },
    ]);
  });

  it('refuses a file without a phone column or with a bad variable name', async () => {
    await expect(read('name,city\nAna,Recife\n')).rejects.toThrow(/no phone column/);
    await expect(read('phone,1st\n+5511999990001,x\n')).rejects.toThrow(/variable names/);
    await expect(read('')).rejects.toThrow(/empty/);
  });
});
