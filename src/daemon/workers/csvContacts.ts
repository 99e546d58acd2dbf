import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { type ContactRow, MAX_IMPORT_ROWS, MAX_IMPORT_ROWS_TEXT } from '../db/repositories/imports.ts';

/**
 * Reads a contacts CSV: a header row, then one contact per row. `phone` (or `telefone`)
 * is required, `name` (or `nome`) optional, every other column becomes a variable for
 * message templates. Rows are yielded one by one with their line number, or with the
 * reason they were rejected — a bad row never stops the import.
 */
export type CsvRow = { line: number; contact: ContactRow } | { line: number; reason: string; phone?: string };

export class CsvHeaderError extends Error {}

/**
 * The file cannot be read as a contacts CSV: final (no retry changes a file), and said in
 * words with a line number, never with the file's content (csv-parse's own messages and
 * properties quote the offending cells, which would land in the log and the job row).
 */
export class CsvUnreadableError extends Error {}

/** A row is phone + name + at most 50 variables of 1,000 characters: 64 KiB is far above any. */
export const MAX_LINE_BYTES = 64 * 1024;
/** What one file may cost in parsing, whatever its shape. */
export const MAX_PARSE_MS = 120_000;
/** The parser is fed this much at a time, yielding to the event loop in between. */
const CHUNK_CHARS = 64 * 1024;

const CSV_PROBLEMS: Record<string, string> = {
  CSV_MAX_RECORD_SIZE: `is longer than ${MAX_LINE_BYTES / 1024} KiB`,
  CSV_QUOTE_NOT_CLOSED: 'opens a quoted field that is never closed',
  INVALID_OPENING_QUOTE:
    'has a quote in the middle of a field (quote the whole field, doubling inner quotes)',
  CSV_INVALID_CLOSING_QUOTE: 'has text right after a closing quote',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'has text right after a closing quote',
};

/** csv-parse's error → what the customer is told (line number and problem; no cell content). */
export function describeCsvError(error: CsvError): CsvUnreadableError {
  const line = (error as CsvError & { lines?: number }).lines;
  const problem = CSV_PROBLEMS[error.code] ?? 'is not valid CSV';
  return new CsvUnreadableError(`${line ? `line ${line}` : 'the file'} ${problem}`);
}

export interface ReadOptions {
  /** Checked between chunks: true stops the read (the job is handed back or cancelled). */
  shouldStop?: () => boolean;
  maxParseMs?: number;
}

/** Thrown when `shouldStop` said so: not a failure of the file. */
export class CsvReadStopped extends Error {}

const PHONE_HEADERS = new Set(['phone', 'telefone', 'celular', 'whatsapp']);
const NAME_HEADERS = new Set(['name', 'nome']);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** E.164 with the + optional (WuzAPI users often paste 5511…); separators forgiven. */
export function normalizePhone(raw: string): string | null {
  const compact = raw.replace(/[\s().-]/g, '');
  const withPlus = compact.startsWith('+') ? compact : `+${compact}`;
  return /^\+[1-9]\d{7,14}$/.test(withPlus) ? withPlus : null;
}

/** The source in chunks, each in its own turn of the event loop, until `shouldStop`. */
async function* chunksOf(source: string, options: ReadOptions): AsyncGenerator<string> {
  const deadline = Date.now() + (options.maxParseMs ?? MAX_PARSE_MS);
  for (let at = 0; at < source.length; at += CHUNK_CHARS) {
    await new Promise((resolve) => setImmediate(resolve));
    if (options.shouldStop?.()) throw new CsvReadStopped('stopped');
    if (Date.now() > deadline) {
      throw new CsvUnreadableError(
        `the file took more than ${Math.round((options.maxParseMs ?? MAX_PARSE_MS) / 1000)} s to read; split it`,
      );
    }
    yield source.slice(at, at + CHUNK_CHARS);
  }
}

/**
 * Every way a file can be costly is bounded: a line over MAX_LINE_BYTES fails the read
 * at once; parsing is fed in chunks, so the event loop keeps renewing the job's lock and
 * hears a shutdown; a wall-clock budget bounds the rest.
 */
export async function* readContactsCsv(source: string, options: ReadOptions = {}): AsyncGenerator<CsvRow> {
  try {
    yield* readRows(source, options);
  } catch (error) {
    if (error instanceof CsvError) throw describeCsvError(error);
    throw error;
  }
}

async function* readRows(source: string, options: ReadOptions): AsyncGenerator<CsvRow> {
  // pipeline, not pipe: an error of the feeding side (stop, time budget) reaches the reader.
  const parser = pipeline(
    Readable.from(chunksOf(source, options), { objectMode: false }),
    parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      max_record_size: MAX_LINE_BYTES,
      // A semicolon is the usual separator of spreadsheets in pt-BR locales.
      delimiter: detectDelimiter(source),
    }),
    () => {}, // errors surface in the for-await below
  );
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
      yield { line, reason: `over the ${MAX_IMPORT_ROWS_TEXT}-row limit` };
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
      // By position, not by name: the "header" may be a customer's data row.
      throw new CsvHeaderError(`header column ${index + 1}: variable names are letters, digits and _`);
    }
    variables.push([index, key]);
  });
  if (variables.length > 50) throw new CsvHeaderError('at most 50 variable columns');
  return { phone, name, variables };
}

function detectDelimiter(source: string): string {
  // The first line, at most one line's worth: a file of one huge line is not scanned whole.
  const end = source.indexOf('\n');
  const firstLine = source.slice(0, Math.min(end < 0 ? source.length : end, MAX_LINE_BYTES));
  return (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
}
