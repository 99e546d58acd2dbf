import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailChannel, parseEmailList } from '../../src/daemon/alerts/channels/email.ts';
import { WebhookChannel } from '../../src/daemon/alerts/channels/webhook.ts';
import {
  describeWebhook,
  detectWebhookFormat,
  validateWebhookUrl,
  type WebhookFormat,
  webhookBody,
} from '../../src/daemon/alerts/channels/webhookFormat.ts';
import type { AlertNotification } from '../../src/daemon/alerts/types.ts';
import { type SmtpReceiver, startSmtpReceiver } from '../../src/devtools/alertReceivers/smtpReceiver.ts';
import {
  type ReceiverFlavour,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../src/devtools/alertReceivers/webhookReceiver.ts';
import { exemptFromContract } from '../helpers/contract.ts';

// The fake Discord serves /api/webhooks/…: a path the API contract check would claim.
exemptFromContract();

const FAST = { baseDelayMs: 20, maxDelayMs: 500, timeoutMs: 2000 };

function notification(patch: Partial<AlertNotification> = {}): AlertNotification {
  return {
    kind: 'firing',
    alert: 'HighErrorRate',
    severity: 'critical',
    summary: 'HTTP 5xx error rate above 1%',
    description: 'The HTTP 5xx error rate has been 3.2% over the last 5 minutes (threshold 1%).',
    value: '3.2%',
    threshold: '1%',
    startsAt: '2025-01-02T03:04:05.000Z',
    instance: 'box1 (http://127.0.0.1:8080)',
    runbookUrl: 'https://example.com/runbook#higherrorrate',
    ...patch,
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function receiver(flavour: ReceiverFlavour): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver({ flavour });
  cleanups.push(() => r.close());
  return r;
}

async function smtp(options: { user?: string; password?: string } = {}): Promise<SmtpReceiver> {
  const r = await startSmtpReceiver(options);
  cleanups.push(() => r.close());
  return r;
}

function channel(r: WebhookReceiver, options: Partial<ConstructorParameters<typeof WebhookChannel>[0]> = {}) {
  return new WebhookChannel({ url: new URL(r.url), format: r.flavour as WebhookFormat, ...FAST, ...options });
}

describe('detectWebhookFormat', () => {
  it('knows Discord hosts only on their webhook path', () => {
    for (const host of ['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com']) {
      expect(detectWebhookFormat(new URL(`https://${host}/api/webhooks/1/abc`))).toBe('discord');
    }
    expect(detectWebhookFormat(new URL('https://discord.com/channels/1/2'))).toBe('json');
    expect(detectWebhookFormat(new URL('https://evil.example/api/webhooks/1/abc'))).toBe('json');
  });

  it('knows Slack and falls back to JSON', () => {
    expect(detectWebhookFormat(new URL('https://hooks.slack.com/services/T/B/x'))).toBe('slack');
    expect(detectWebhookFormat(new URL('http://127.0.0.1:9093/api/v2/alerts'))).toBe('json');
  });
});

describe('validateWebhookUrl / describeWebhook', () => {
  it('accepts http and https', () => {
    expect(validateWebhookUrl(' https://discord.com/api/webhooks/1/x ').host).toBe('discord.com');
    expect(validateWebhookUrl('http://127.0.0.1:5000/hook').port).toBe('5000');
  });

  it('refuses what is not a URL, other schemes and credentials', () => {
    expect(() => validateWebhookUrl('discord.com/api/webhooks')).toThrow(/not a valid URL/);
    expect(() => validateWebhookUrl('ftp://example.com/x')).toThrow(/https:\/\/ or http:\/\//);
    expect(() => validateWebhookUrl('https://me:secret@example.com/x')).toThrow(
      /put no credentials in the URL/,
    );
  });

  it('names the host, never the token', () => {
    const url = new URL('https://discord.com/api/webhooks/123/SECRETTOKEN?thread_id=9');
    const text = describeWebhook(url, 'discord');
    expect(text).toBe('discord webhook at discord.com');
    expect(text).not.toContain('SECRETTOKEN');
  });
});

describe('webhookBody', () => {
  it('starts every title with its marker', () => {
    const kinds = {
      firing: '[FIRING]',
      resolved: '[RESOLVED]',
      reminder: '[REMINDER]',
      test: '[TEST]',
    } as const;
    for (const [kind, marker] of Object.entries(kinds)) {
      const n = notification({ kind: kind as AlertNotification['kind'] });
      const discord = webhookBody('discord', n);
      const slack = webhookBody('slack', n);
      expect(discord.content.startsWith(`${marker} HighErrorRate: HTTP 5xx error rate above 1%`)).toBe(true);
      expect(discord.embeds[0]?.title.startsWith(marker)).toBe(true);
      expect(slack.text.startsWith(`${marker} HighErrorRate`)).toBe(true);
    }
  });

  it('says in words that a test is a test', () => {
    const n = notification({ kind: 'test', value: null });
    for (const format of ['discord', 'slack', 'json'] as const) {
      const text = JSON.stringify(webhookBody(format, n));
      expect(text).toContain('wuzctl alerts test');
      expect(text).toContain('nothing is wrong');
    }
  });

  it('keeps Discord within its limits and colours by kind', () => {
    const n = notification({ description: 'x'.repeat(10_000), instance: 'i'.repeat(3000) });
    const body = webhookBody('discord', n);
    const embed = body.embeds[0];
    if (!embed) throw new Error('no embed');
    const description = embed.description ?? '';
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description.endsWith('…')).toBe(true);
    for (const f of embed.fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    const total =
      embed.title.length +
      description.length +
      embed.footer.text.length +
      embed.fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(embed.color).toBe(0x992d22);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    const resolved = webhookBody(
      'discord',
      notification({ kind: 'resolved', endsAt: '2025-01-02T04:00:00Z' }),
    );
    expect(resolved.embeds[0]?.color).toBe(0x2ecc71);
    const test = webhookBody('discord', notification({ kind: 'test' }));
    expect(test.embeds[0]?.color).toBe(0x3498db);
  });

  it('links the runbook in Discord only when it is http(s)', () => {
    const web = webhookBody('discord', notification());
    expect(web.embeds[0]?.url).toBe('https://example.com/runbook#higherrorrate');
    const file = webhookBody('discord', notification({ runbookUrl: 'file:///opt/wuzctl/RUNBOOK.md' }));
    expect(file.embeds[0] && 'url' in file.embeds[0]).toBe(false);
    expect(file.embeds[0]?.fields.find((f) => f.name === 'Runbook')?.value).toContain(
      'file:///opt/wuzctl/RUNBOOK.md',
    );
  });

  it('writes a Slack link as <url|Runbook> and escapes mrkdwn', () => {
    const body = JSON.stringify(webhookBody('slack', notification({ description: 'a <b> & c' })));
    expect(body).toContain('<https://example.com/runbook#higherrorrate|Runbook>');
    expect(body).toContain('a &lt;b&gt; &amp; c');
  });

  it('builds an Alertmanager-compatible payload', () => {
    const firing = webhookBody('json', notification({ kind: 'reminder' }));
    expect(firing).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'wuzctl',
      groupLabels: { alertname: 'HighErrorRate' },
      commonLabels: {
        alertname: 'HighErrorRate',
        severity: 'critical',
        instance: 'box1 (http://127.0.0.1:8080)',
      },
      commonAnnotations: {
        summary: 'HTTP 5xx error rate above 1%',
        runbook_url: 'https://example.com/runbook#higherrorrate',
      },
      wuzctl: { kind: 'reminder' },
    });
    expect(firing.alerts).toHaveLength(1);
    expect(firing.alerts[0]).toMatchObject({
      status: 'firing',
      startsAt: '2025-01-02T03:04:05.000Z',
      endsAt: '0001-01-01T00:00:00Z',
    });
    expect(firing.alerts[0]?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const resolved = webhookBody('json', notification({ kind: 'resolved', endsAt: '2025-01-02T04:00:00Z' }));
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts[0]?.endsAt).toBe('2025-01-02T04:00:00Z');
    expect(resolved.alerts[0]?.fingerprint).toBe(firing.alerts[0]?.fingerprint);
    const test = webhookBody('json', notification({ kind: 'test' }));
    expect(test.status).toBe('firing');
    expect(test.wuzctl.kind).toBe('test');
  });
});

describe('WebhookChannel', () => {
  it('delivers to Discord with ?wait=true, a long description cut and accepted', async () => {
    const r = await receiver('discord');
    const result = await channel(r).send(notification({ description: 'd'.repeat(10_000) }));
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    const entry = await r.waitFor();
    expect(entry.query).toBe('wait=true');
    expect(entry.headers['user-agent']).toBe('wuzctl-alerts');
    expect(entry.body.embeds[0].description.length).toBeLessThanOrEqual(4096);
    expect(result.answer).toContain('"id"');
  });

  it('keeps an existing query next to wait=true', async () => {
    const r = await receiver('discord');
    const url = new URL(r.url);
    url.searchParams.set('thread_id', '42');
    const result = await new WebhookChannel({ url, format: 'discord', ...FAST }).send(notification());
    expect(result.ok).toBe(true);
    const params = new URLSearchParams((await r.waitFor()).query);
    expect(params.get('thread_id')).toBe('42');
    expect(params.get('wait')).toBe('true');
  });

  it('the fake Discord refuses what Discord refuses', async () => {
    const r = await receiver('discord');
    const post = (body: unknown) =>
      fetch(`${r.url}?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const empty = await post({ username: 'x' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { code: number }).code).toBe(50006);
    expect((await post({ content: 'c'.repeat(2001) })).status).toBe(400);
    expect((await post({ embeds: [{ description: 'd'.repeat(4097) }] })).status).toBe(400);
    expect((await post({ embeds: [{ title: 't', url: 'file:///x' }] })).status).toBe(400);
    const noWait = await fetch(r.url, { method: 'POST', body: JSON.stringify({ content: 'hi' }) });
    expect(noWait.status).toBe(204);
  });

  it('delivers to Slack', async () => {
    const r = await receiver('slack');
    const result = await channel(r).send(notification({ kind: 'test', value: null }));
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1, answer: 'ok' });
    const entry = await r.waitFor();
    expect(entry.body.text.startsWith('[TEST] HighErrorRate')).toBe(true);
    expect(entry.body.blocks[0].type).toBe('header');
    const bad = await fetch(r.url, { method: 'POST', body: 'not json' });
    expect(await bad.text()).toBe('invalid_payload');
    const none = await fetch(r.url, { method: 'POST', body: JSON.stringify({}) });
    expect(await none.text()).toBe('no_text');
  });

  it('delivers Alertmanager JSON', async () => {
    const r = await receiver('json');
    const result = await channel(r).send(notification({ kind: 'resolved', endsAt: '2025-01-02T04:00:00Z' }));
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect((await r.waitFor()).body).toMatchObject({ version: '4', status: 'resolved', receiver: 'wuzctl' });
  });

  it('waits out a Discord 429 for retry_after, counted as an attempt', async () => {
    const r = await receiver('discord');
    r.failNext(1, 429, { retryAfterSeconds: 0.2 });
    const result = await channel(r, { baseDelayMs: 1, maxDelayMs: 2000 }).send(notification());
    expect(result).toMatchObject({ ok: true, attempts: 2, status: 200 });
    const [first, second] = r.received;
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(190);
    // The header says 1 s (whole seconds): the body's 0.2 s is the one honoured.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeLessThan(900);
  });

  it('waits out a Slack 429 for its Retry-After header', async () => {
    const r = await receiver('slack');
    r.failNext(1, 429, { retryAfterSeconds: 0.2 });
    const result = await channel(r, { baseDelayMs: 1, maxDelayMs: 2000 }).send(notification());
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    const [first, second] = r.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const r = await receiver('discord');
    r.failNext(1, 429, { retryAfterSeconds: 30 });
    const started = Date.now();
    const result = await channel(r, { maxDelayMs: 100 }).send(notification());
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not retry a 404 (deleted webhook)', async () => {
    const r = await receiver('discord');
    const url = new URL(r.url.replace('/tok', '/wrongtokenwrongtoken'));
    const result = await new WebhookChannel({ url, format: 'discord', ...FAST }).send(notification());
    expect(result).toMatchObject({ ok: false, status: 404, attempts: 1 });
    expect(result.answer).toContain('Unknown Webhook');
    expect(result.answer).not.toContain('wrongtokenwrongtoken');
    expect(r.received).toHaveLength(1);
  });

  it('does not retry other 4xx answers', async () => {
    const r = await receiver('json');
    r.failNext(1, 403);
    const result = await channel(r).send(notification());
    expect(result).toMatchObject({ ok: false, status: 403, attempts: 1 });
  });

  it('retries 5xx with backoff, then delivers', async () => {
    const r = await receiver('slack');
    r.failNext(2, 503);
    const result = await channel(r).send(notification());
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(r.received.map((e) => e.status)).toEqual([503, 503, 200]);
  });

  it('gives up after maxAttempts with the last answer', async () => {
    const r = await receiver('json');
    r.failNext(10, 500);
    const result = await channel(r, { maxAttempts: 3 }).send(notification());
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 3 });
    expect(result.answer).toContain('HTTP 500');
  });

  it('reports a dead port as a failure, never a throw', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = new URL(`http://127.0.0.1:${port}/api/webhooks/1/deadtokendeadtoken`);
    const result = await new WebhookChannel({ url, format: 'discord', ...FAST, maxAttempts: 2 }).send(
      notification(),
    );
    expect(result.ok).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.attempts).toBe(2);
    expect(result.answer).toMatch(/ECONNREFUSED|fetch failed/);
    expect(result.answer).not.toContain('deadtoken');
  });

  it('times out a receiver that never answers, and retries', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = http.createServer(() => {});
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
    const result = await new WebhookChannel({
      url,
      format: 'json',
      ...FAST,
      timeoutMs: 100,
      maxAttempts: 2,
    }).send(notification());
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.answer).toContain('no answer within 100 ms');
  });

  it('stops retrying when aborted, during the wait', async () => {
    const r = await receiver('json');
    r.failNext(10, 500);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    const result = await channel(r, { baseDelayMs: 5000, maxDelayMs: 10_000 }).send(
      notification(),
      controller.signal,
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.answer).toContain('stopped');
  });

  it('does not send at all when already aborted', async () => {
    const r = await receiver('json');
    const result = await channel(r).send(notification(), AbortSignal.abort());
    expect(result).toMatchObject({ ok: false, attempts: 0 });
    expect(r.received).toHaveLength(0);
  });

  it('puts neither path nor token in describe() or answers', async () => {
    const r = await receiver('slack');
    r.failNext(1, 400);
    const c = channel(r);
    expect(c.describe()).toBe(`slack webhook at 127.0.0.1:${r.port}`);
    const result = await c.send(notification());
    expect(result.ok).toBe(false);
    for (const text of [c.describe(), result.answer]) {
      expect(text).not.toContain('/services/');
      expect(text).not.toContain('T000');
    }
  });
});

describe('parseEmailList', () => {
  it('splits, trims and deduplicates', () => {
    expect(parseEmailList(' ops@example.com, dev@example.com;OPS@example.com ')).toEqual([
      'ops@example.com',
      'dev@example.com',
    ]);
  });

  it('refuses what is not an address', () => {
    expect(() => parseEmailList('ops.example.com')).toThrow(/not an e-mail address/);
    expect(() => parseEmailList('a@x b@y')).toThrow(/not an e-mail address/);
    expect(() => parseEmailList('a@@x')).toThrow(/not an e-mail address/);
    expect(() => parseEmailList(' , ')).toThrow(/no e-mail address/);
  });
});

describe('EmailChannel', () => {
  const email = (smtpUrl: string, patch: Partial<ConstructorParameters<typeof EmailChannel>[0]> = {}) =>
    new EmailChannel({
      smtpUrl,
      from: 'wuzctl@example.com',
      to: ['ops@example.com', 'dev@example.com'],
      ...FAST,
      ...patch,
    });

  it('delivers with the marker in the subject and the details in the body', async () => {
    const r = await smtp({ user: 'alerts', password: 's3cret' });
    const result = await email(r.url).send(notification());
    expect(result).toMatchObject({ ok: true, status: 250, attempts: 1 });
    const mail = await r.waitFor();
    expect(mail.subject).toBe('[FIRING] HighErrorRate: HTTP 5xx error rate above 1%');
    expect(mail.from).toBe('wuzctl@example.com');
    expect(mail.to).toEqual(['ops@example.com', 'dev@example.com']);
    expect(mail.user).toBe('alerts');
    for (const part of [
      '3.2%',
      'Threshold:',
      '2025-01-02T03:04:05.000Z',
      'box1',
      'https://example.com/runbook',
    ]) {
      expect(mail.text).toContain(part);
    }
    expect(mail.html).toContain('<a href="https://example.com/runbook#higherrorrate">');
  });

  it('marks a test as a test', async () => {
    const r = await smtp();
    const result = await email(r.url).send(notification({ kind: 'test', value: null }));
    expect(result.ok).toBe(true);
    const mail = await r.waitFor();
    expect(mail.subject.startsWith('[TEST] HighErrorRate')).toBe(true);
    expect(mail.text).toContain('wuzctl alerts test');
  });

  it('describes without the password', () => {
    const c = email('smtp://alerts:s3cret@smtp.example.com:587');
    expect(c.describe()).toBe('e-mail to ops@example.com, dev@example.com via smtp.example.com:587');
    expect(email('smtps://a:b@mail.example.com').describe()).toContain('via mail.example.com:465');
    expect(() => email('http://smtp.example.com')).toThrow(/smtp:\/\/ or smtps:\/\//);
  });

  it('fails without retrying when AUTH is required and missing', async () => {
    const r = await smtp({ user: 'alerts', password: 's3cret' });
    const result = await email(r.url.replace('alerts:s3cret@', '')).send(notification());
    expect(result.ok).toBe(false);
    expect(result.attempts).toBe(1);
    expect(result.status).toBeGreaterThanOrEqual(500);
    expect(r.messages).toHaveLength(0);
  });

  it('fails without retrying on a wrong password, and does not echo it', async () => {
    const r = await smtp({ user: 'alerts', password: 's3cret' });
    const result = await email(r.url.replace('s3cret', 'wrongpass')).send(notification());
    expect(result).toMatchObject({ ok: false, status: 535, attempts: 1 });
    expect(result.answer).not.toContain('wrongpass');
    expect(r.messages).toHaveLength(0);
  });

  it('retries a 451 and then delivers', async () => {
    const r = await smtp();
    r.rejectNext(1, 451);
    const result = await email(r.url).send(notification());
    expect(result).toMatchObject({ ok: true, status: 250, attempts: 2 });
    expect(r.messages).toHaveLength(1);
  });

  it('does not retry a 550', async () => {
    const r = await smtp();
    r.rejectNext(3, 550);
    const result = await email(r.url).send(notification());
    expect(result).toMatchObject({ ok: false, status: 550, attempts: 1 });
    expect(result.answer).toContain('550');
    expect(r.messages).toHaveLength(0);
  });

  it('reports a dead SMTP port as a failure after its retries', async () => {
    const r = await startSmtpReceiver();
    await r.close();
    const result = await email(r.url, { maxAttempts: 2 }).send(notification());
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result.status).toBeUndefined();
    expect(result.answer).toMatch(/ECONNREFUSED|connect/i);
  });

  it('stops retrying when aborted', async () => {
    const r = await smtp();
    r.rejectNext(10, 451);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    const result = await email(r.url, { baseDelayMs: 5000, maxDelayMs: 10_000 }).send(
      notification(),
      controller.signal,
    );
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
  });
});
