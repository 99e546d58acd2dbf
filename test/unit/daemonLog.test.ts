import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogReader, matches, parseLogLine } from '../../src/cli/logFile.ts';
import { DaemonLog } from '../../src/daemon/supervisor/daemonLog.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wz-log-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('DaemonLog', () => {
  it('keeps what is logged before the file may be written, then writes it first, private', async () => {
    const log = new DaemonLog('none');
    const file = path.join(dir, 'wuzctl.log');
    log.logger('supervisor', 'info').info('starting');
    expect(existsSync(file)).toBe(false);
    log.openFile(file);
    log.logger('supervisor', 'info').info('ready');
    await log.close();
    expect((await lines(file)).map((r) => r.msg)).toEqual(['starting', 'ready']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("copies a child's JSON lines as they are and wraps its other lines, stderr as warnings", async () => {
    const log = new DaemonLog('none');
    const file = path.join(dir, 'wuzctl.log');
    log.openFile(file);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    log.follow({ role: 'queue', pid: 4242, stdout, stderr });
    stdout.end('{"level":30,"role":"queue","msg":"hello"}\n');
    stderr.end('(node:4242) Warning: something\n\n');
    await log.close();
    const records = await lines(file);
    expect(records).toContainEqual({ level: 30, role: 'queue', msg: 'hello' });
    expect(records).toContainEqual(
      expect.objectContaining({ level: 40, role: 'queue', pid: 4242, msg: '(node:4242) Warning: something' }),
    );
    expect(records).toHaveLength(2);
  });

  it('reopens its file by name after it was moved away', async () => {
    const log = new DaemonLog('none');
    const file = path.join(dir, 'wuzctl.log');
    const logger = log.logger('supervisor', 'info');
    log.openFile(file);
    logger.info('one');
    await rename(file, `${file}.1`);
    expect(log.reopen()).toBe(true);
    logger.info('two');
    await log.close();
    expect((await lines(`${file}.1`)).map((r) => r.msg)).toEqual(['one']);
    expect((await lines(file)).map((r) => r.msg)).toEqual(['two']);
  });
});

describe('LogReader and filters', () => {
  it('returns whole lines only, keeps a character split across reads, and starts over after a truncation', async () => {
    const file = path.join(dir, 'wuzctl.log');
    await writeFile(file, '{"msg":"São');
    const reader = new LogReader(file);
    const seen: string[] = [];
    await reader.readNew((line) => seen.push(line));
    expect(seen).toEqual([]);
    await appendFile(file, ' Paulo"}\n{"msg":"b"}\n');
    await reader.readNew((line) => seen.push(line));
    expect(seen).toEqual(['{"msg":"São Paulo"}', '{"msg":"b"}']);
    await truncate(file, 0);
    await appendFile(file, '{"msg":"c"}\n');
    await reader.readNew((line) => seen.push(line));
    expect(seen.at(-1)).toBe('{"msg":"c"}');
    await reader.close();
  });

  it('treats a line that is not JSON as a warning of the supervisor at the time before it', () => {
    const entry = parseLogLine('TypeError: boom', 1000);
    expect(entry).toMatchObject({ level: 40, role: 'supervisor', time: 1000 });
    expect(JSON.parse(entry.line)).toMatchObject({ msg: 'TypeError: boom' });
    expect(matches(entry, { role: 'supervisor', minLevel: 40, since: 999 })).toBe(true);
    expect(matches(entry, { minLevel: 50 })).toBe(false);
    expect(matches(parseLogLine('{"level":30,"time":5,"role":"api"}'), { role: 'queue' })).toBe(false);
  });
});
