import { parse } from 'csv-parse';
import { type ContactRow, MAX_IMPORT_ROWS } from '../db/repositories/imports.ts';

/**
 * Reads a contacts CSV: a header row, then one contact per row. `phone` (or `telefone`)
 * is required, `name` (or `nome`) optional, every other column becomes a variable for
 * message templates. Rows are yielded one by one with their line number, or with the
 * reason they were rejected — a bad row never stops the import.
 */
export type CsvRow = { line: number; contact: ContactRow } | { line: number; reason: string; phone?: string };

export class CsvHeaderError extends Error {}

const PHONE_HEADERS = new Set(['phone', 'telefone', 'celular', 'whatsapp']);
const NAME_HEADERS = new Set(['name', 'nome']);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** E.164 with the + optional (WuzAPI users often paste 5511…); separators forgiven. */
export function normalizePhone(raw: string): string | null {
  const compact = raw.replace(/[\s().-]/g, '');
  const withPlus = compact.startsWith('+') ? compact : `+${compact}`;
  return /^\+[1-9]\d{7,14}$/.test(withPlus) ? withPlus : null;
}

export async function* readContactsCsv(source: string): AsyncGenerator<CsvRow> {
  const parser = parse(source, {
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    // A semicolon is the usual separator of spreadsheets in pt-BR locales.
    delimiter: detectDelimiter(source),
  });
  let header: { phone: number; name: number; variables: Array<[number, string]> } | null = null;
  let rows = 0;
  const seen = new Set<string>();
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (!header) {
      header = readHeader(record);
      continue;
    }
    const line = info.lines;
    rows += 1;
    if (rows > MAX_IMPORT_ROWS) {
      yield { line, reason: `over the ${MAX_IMPORT_ROWS.toLocaleString('en')}-row limit` };
      continue;
    }
    if (record.length > header.variables.length + 2 + 5) {
      yield { line, reason: 'more columns than the header' };
      continue;
    }
    const rawPhone = record[header.phone] ?? '';
    if (!rawPhone) {
      yield { line, reason: 'missing phone' };
      continue;
    }
    const phone = normalizePhone(rawPhone);
    if (!phone) {
      yield { line, reason: 'invalid phone (not E.164)', phone: rawPhone.slice(0, 32) };
      continue;
    }
    if (seen.has(phone)) {
      yield { line, reason: 'duplicate phone in the file', phone };
      continue;
    }
    const name = header.name >= 0 ? (record[header.name] ?? '') : '';
    if (name.length > 100) {
      yield { line, reason: 'name longer than 100 characters', phone };
      continue;
    }
    const variables: Record<string, string> = {};
    let tooLong = false;
    for (const [index, key] of header.variables) {
      const value = record[index] ?? '';
      if (value.length > 1000) tooLong = true;
      if (value) variables[key] = value;
    }
    if (tooLong) {
      yield { line, reason: 'a variable longer than 1000 characters', phone };
      continue;
    }
    seen.add(phone);
    yield { line, contact: { phone, name, variables } };
  }
  if (!header) throw new CsvHeaderError('the file is empty: expected a header row with a phone column');
}

function readHeader(record: string[]) {
  const names = record.map((cell) => cell.trim());
  const lower = names.map((cell) => cell.toLowerCase());
  const phone = lower.findIndex((cell) => PHONE_HEADERS.has(cell));
  if (phone < 0) {
    throw new CsvHeaderError(`no phone column: the header must name one of ${[...PHONE_HEADERS].join(', ')}`);
  }
  const name = lower.findIndex((cell) => NAME_HEADERS.has(cell));
  const variables: Array<[number, string]> = [];
  names.forEach((cell, index) => {
    if (index === phone || index === name || cell === '') return;
    const key = cell.replace(/\s+/g, '_');
    if (!VARIABLE_NAME.test(key)) {
      throw new CsvHeaderError(`column "${cell.slice(0, 64)}": variable names are letters, digits and _`);
    }
    variables.push([index, key]);
  });
  if (variables.length > 50) throw new CsvHeaderError('at most 50 variable columns');
  return { phone, name, variables };
}

function detectDelimiter(source: string): string {
  const end = source.indexOf('\n');
  const firstLine = end < 0 ? source : source.slice(0, end);
  return (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
}
