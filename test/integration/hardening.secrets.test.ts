import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/daemon/security/keyring.ts';
import { type FakeWuzapi, startFakeWuzapi } from '../../src/devtools/fakeWuzapi.ts';
import {
  cleanupDaemons,
  type Daemon,
  embeddedDatabaseUrl,
  embeddedEnv,
  seedDemo,
  startDaemon,
  statusJson,
  tempDataDir,
  waitFor,
} from '../helpers/daemon.ts';

/**
 * Secrets at rest: Stripe secret keys, webhook secrets and WuzAPI session tokens are
 * stored encrypted under the operator's key, read back through it, and re-encrypted when
 * the key is rotated — over a real daemon and its embedded database.
 */
const key = () => randomBytes(32).toString('base64');
const [K1, K2] = [key(), key()];
const SECRET_KEY = 'sk_test_AtRestSecret0001';
const WEBHOOK = 'whsec_AtRestWebhook0002';
const SESSION = 'session-token-at-rest-0003';

let fake: FakeWuzapi;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeWuzapi({ tokens: [SESSION] });
  dataDir = await tempDataDir();
});
afterAll(async () => {
  await cleanupDaemons();
  await fake?.close();
});

const start = (env: Record<string, string | undefined>) =>
  startDaemon({
    dataDir,
    env: { ...embeddedEnv, ...env },
    apiWorkers: 1,
    queueWorkers: 1,
    args: ['--wuzapi-url', fake.url],
  });

async function api(daemon: Daemon, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${daemon.url}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function stored(): Promise<{ secret_key: string; webhook_secret: string; session_tokens: string[] }> {
  const status = await statusJson(dataDir);
  const client = new pg.Client({
    connectionString: await embeddedDatabaseUrl(dataDir, status.database.address),
  });
  await client.connect();
  try {
    const settings = (await client.query('SELECT secret_key, webhook_secret FROM stripe_settings')).rows;
    const campaigns = (await client.query('SELECT session_token FROM campaigns')).rows;
    // One tenant is seeded: one settings row.
    return {
      ...settings[0],
      session_tokens: campaigns.map((row) => row.session_token as string),
    };
  } finally {
    await client.end();
  }
}

async function sql(text: string, values: unknown[] = []): Promise<void> {
  const status = await statusJson(dataDir);
  const client = new pg.Client({
    connectionString: await embeddedDatabaseUrl(dataDir, status.database.address),
  });
  await client.connect();
  await client.query(text, values).finally(() => client.end());
}

describe('secrets at rest', () => {
  it('are stored encrypted, used in plaintext, shown as last 4, and survive a key rotation', async () => {
    let daemon = await start({ WUZ_SECRET_KEY: K1 });
    const [tenant] = await seedDemo(dataDir, 1, { ...embeddedEnv, WUZ_SECRET_KEY: K1 });
    const admin = tenant?.admin_token ?? '';
    const user = tenant?.user_tokens[0] ?? '';

    const saved = await api(daemon, 'PUT', '/admin/stripe/settings', admin, {
      publishable_key: 'pk_test_AtRestPublishable',
      secret_key: SECRET_KEY,
      webhook_secret: WEBHOOK,
      currency: 'brl',
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ secret_key_last4: '0001', webhook_secret_last4: '0002' });

    const contact = await api(daemon, 'POST', '/contacts', user, { phone: '+5511987650001', name: 'Ana' });
    expect(contact.status).toBe(201);
    const campaign = await api(daemon, 'POST', '/campaigns', user, {
      name: 'at rest',
      template: 'Oi {{name}}',
      audience: { contact_ids: [contact.body.id] },
      session_token: SESSION,
      min_delay_ms: 0,
      max_delay_ms: 0,
    });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(202);
    // The worker decrypted the token: WuzAPI (which only accepts that token) got the message.
    await waitFor(() => fake.messages().some((m) => m.token === SESSION), 30_000, 'the send to WuzAPI');
    expect((await api(daemon, 'GET', `/campaigns/${campaign.body.id}`, user)).body.session_token_hint).toBe(
      '…0003',
    );

    const first = await stored();
    const k1 = `wz1:${keyId(Buffer.from(K1, 'base64'))}:`;
    for (const value of [first.secret_key, first.webhook_secret, ...first.session_tokens]) {
      expect(value.startsWith(k1), value).toBe(true);
    }
    expect(JSON.stringify(first)).not.toMatch(/AtRestSecret|AtRestWebhook|at-rest-0003/);
    // A row an earlier version wrote in plaintext is encrypted at the next start.
    await sql('UPDATE campaigns SET session_token = $1', ['legacy-plain-token']);
    expect(await daemon.stop()).toBe(0);

    // Rotation: K2 current, K1 still readable. Every secret is re-encrypted under K2.
    daemon = await start({ WUZ_SECRET_KEY: K2, WUZ_SECRET_KEY_PREVIOUS: K1 });
    const second = await stored();
    const k2 = `wz1:${keyId(Buffer.from(K2, 'base64'))}:`;
    for (const value of [second.secret_key, second.webhook_secret, ...second.session_tokens]) {
      expect(value.startsWith(k2), value).toBe(true);
    }
    expect(JSON.stringify(second)).not.toContain('legacy-plain-token');
    expect(await daemon.stop()).toBe(0);

    // K1 retired: the secrets still read (a PUT that keeps them must decrypt them).
    daemon = await start({ WUZ_SECRET_KEY: K2 });
    const kept = await api(daemon, 'PUT', '/admin/stripe/settings', admin, {
      publishable_key: 'pk_test_AtRestPublishable2',
      currency: 'usd',
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body).toMatchObject({
      secret_key_last4: '0001',
      webhook_secret_last4: '0002',
      currency: 'usd',
    });

    expect(await daemon.stop()).toBe(0);
    expect(daemon.stdout() + daemon.stderr()).not.toMatch(/AtRestSecret|AtRestWebhook|at-rest-0003/);
  });
});
