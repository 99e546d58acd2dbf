// biome-ignore-all lint/suspicious/noExplicitAny: the assertions read arbitrary JSON bodies
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeWuzapi, startFakeWuzapi } from '../../src/devtools/fakeWuzapi.ts';
import { cliPath } from '../helpers/daemon.ts';

const fakes: FakeWuzapi[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
});

async function fakeWith(options: Parameters<typeof startFakeWuzapi>[0] = {}) {
  const fake = await startFakeWuzapi({ port: 0, ...options });
  fakes.push(fake);
  return fake;
}

async function send(fake: FakeWuzapi, body: unknown, token: string | null = 'tok') {
  const response = await fetch(`${fake.url}/chat/send/text`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { Token: token } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('fake WuzAPI', () => {
  it('records a send, and a repeated Id is the same message', async () => {
    const fake = await fakeWith();
    const first = await send(fake, { Phone: '5511999990001', Body: 'hi', Id: 'ABC' });
    expect(first).toMatchObject({
      status: 200,
      body: { code: 200, success: true, data: { Details: 'Sent', Id: 'ABC' } },
    });
    const again = await send(fake, { Phone: '5511999990001', Body: 'hi', Id: 'ABC' });
    expect(again.body.data).toEqual(first.body.data);
    expect(fake.messages()).toEqual([
      expect.objectContaining({ id: 'ABC', phone: '5511999990001', body: 'hi', token: 'tok', deliveries: 2 }),
    ]);
    expect(fake.stats()).toMatchObject({ requests: 2, messages: 1, duplicates: 1 });
  });

  it('answers 401 and 400 as WuzAPI does', async () => {
    const fake = await fakeWith({ tokens: ['good'] });
    expect((await send(fake, { Phone: '5511999990001', Body: 'x' }, null)).status).toBe(401);
    expect((await send(fake, { Phone: '5511999990001', Body: 'x' }, 'bad')).status).toBe(401);
    expect((await send(fake, '{nope', 'good')).body.error).toBe('could not decode Payload');
    expect((await send(fake, { Body: 'x' }, 'good')).body.error).toBe('missing Phone in Payload');
    expect((await send(fake, { Phone: '5511999990001' }, 'good')).body.error).toBe('missing Body in Payload');
    expect((await send(fake, { Phone: '+55 11', Body: 'x' }, 'good')).body.error).toBe('invalid phone');
    expect(fake.stats()).toMatchObject({ rejected: 6, messages: 0 });
  });

  it('misbehaves on request: no session, the next N fail, rejected phones, a fail rate, latency', async () => {
    const fake = await fakeWith({ seed: 7 });
    fake.setBehaviour({ noSession: true });
    expect(await send(fake, { Phone: '5511999990001', Body: 'x' })).toMatchObject({
      status: 500,
      body: { error: 'No session' },
    });
    fake.setBehaviour({ noSession: false, failNext: 2, rejectPhones: ['5511999990002'] });
    expect((await send(fake, { Phone: '5511999990001', Body: 'x' })).status).toBe(500);
    expect((await send(fake, { Phone: '5511999990001', Body: 'x' })).status).toBe(500);
    expect((await send(fake, { Phone: '5511999990001', Body: 'x' })).status).toBe(200);
    expect((await send(fake, { Phone: '5511999990002', Body: 'x' })).body.error).toBe(
      'phone is not on WhatsApp',
    );

    const sequence = async (f: FakeWuzapi) => {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push((await send(f, { Phone: `55119999${String(i).padStart(5, '0')}`, Body: 'x' })).status);
      return statuses;
    };
    const a = await fakeWith({ seed: 3, failRate: 0.5 });
    const b = await fakeWith({ seed: 3, failRate: 0.5 });
    const first = await sequence(a);
    expect(first).toEqual(await sequence(b));
    expect(first).toContain(500);
    expect(first).toContain(200);

    fake.setBehaviour({ latencyMs: 150, rejectPhones: [] });
    const began = performance.now();
    await send(fake, { Phone: '5511999990009', Body: 'x' });
    expect(performance.now() - began).toBeGreaterThanOrEqual(140);
  });

  it('is steered over HTTP: behaviour (validated), messages, reset', async () => {
    const fake = await fakeWith();
    const bad = await fetch(`${fake.url}/_fake/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ failRate: 2 }),
    });
    expect(bad.status).toBe(400);
    const good = await fetch(`${fake.url}/_fake/behaviour`, {
      method: 'POST',
      body: JSON.stringify({ failNext: 1 }),
    });
    expect(((await good.json()) as any).behaviour.failNext).toBe(1);
    await send(fake, { Phone: '5511999990001', Body: 'x' });
    await send(fake, { Phone: '5511999990001', Body: 'x', Id: 'Z' });
    const listed = (await (await fetch(`${fake.url}/_fake/messages`)).json()) as any;
    expect(listed.messages.map((m: any) => m.id)).toEqual(['Z']);
    expect(listed.stats).toMatchObject({ requests: 2, failures: 1, messages: 1 });
    expect((await fetch(`${fake.url}/_fake/reset`, { method: 'POST' })).status).toBe(204);
    expect(fake.messages()).toEqual([]);
    expect((await fetch(`${fake.url}/nope`)).status).toBe(404);
  });

  it('runs as `wuzctl fake-wuzapi`, prints its URL, and stops cleanly on SIGTERM', async () => {
    const child = execa(process.execPath, [cliPath, 'fake-wuzapi', '--port', '0', '--json'], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    const url = await new Promise<string>((resolve) => {
      child.stdout?.once('data', (chunk: Buffer) =>
        resolve(JSON.parse(String(chunk).split('\n')[0] as string).url),
      );
    });
    const answer = await fetch(`${url}/chat/send/text`, {
      method: 'POST',
      headers: { Token: 't' },
      body: JSON.stringify({ Phone: '5511999990001', Body: 'hello' }),
    });
    expect(answer.status).toBe(200);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('5511999990001: hello');

    const wrong = await execa(process.execPath, [cliPath, 'fake-wuzapi', '--fail-rate', '2'], {
      reject: false,
    });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toMatch(/--fail-rate 2 is not between 0 and 1/);
  });
});
