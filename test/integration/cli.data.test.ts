import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupDaemons, embeddedEnv, startDaemon, tempDataDir, wuzctl } from '../helpers/daemon.ts';

// The data commands on an embedded data dir: first with no daemon (they open PGlite
// themselves, under the daemon's pid lock), then through a running daemon.

let dataDir: string;
const run = (args: string[]) =>
  wuzctl([...args, '--data-dir', dataDir], { env: embeddedEnv, timeoutMs: 120_000 });

beforeAll(async () => {
  dataDir = await tempDataDir();
});
afterAll(cleanupDaemons);

describe('data commands without a daemon', () => {
  it('create a tenant and a user, and refuse bad input with exit 2 or 1 and a message', async () => {
    const tenant = await run(['tenants', 'create', 'Açaí Resellers', '--plan', 'pro', '--json']);
    expect(tenant.exitCode, tenant.stderr).toBe(0);
    expect(JSON.parse(tenant.stdout)).toMatchObject({ slug: 'acai-resellers', plan: 'pro' });

    const badPlan = await run(['tenants', 'create', 'X', '--plan', 'platinum']);
    expect(badPlan.exitCode).toBe(2);
    expect(badPlan.stderr).toMatch(/platinum/);

    const user = await run([
      'users',
      'create',
      '--tenant',
      'acai-resellers',
      '--email',
      'ana@acai.test',
      '--role',
      'admin',
      '--json',
    ]);
    expect(JSON.parse(user.stdout)).toMatchObject({
      email: 'ana@acai.test',
      role: 'admin',
      tenant: 'acai-resellers',
    });

    const duplicate = await run([
      'users',
      'create',
      '--tenant',
      'acai-resellers',
      '--email',
      'ANA@acai.test',
    ]);
    expect(duplicate.exitCode).toBe(1);
    expect(duplicate.stderr).toMatch(/already exists/);
    expect(duplicate.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const unknown = await run(['users', 'create', '--tenant', 'nope', '--email', 'x@y.test']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/no tenant with slug "nope"/);
    expect(unknown.stderr).toMatch(/hint: .*tenants list/);
    // The hint names this data dir, so it works when pasted.
    const hint = /hint: list them with: wuzctl (.*)$/m.exec(unknown.stderr)?.[1] ?? '';
    expect(hint).toBe(`tenants list --data-dir ${dataDir}`);
    expect((await wuzctl(hint.split(' '), { env: embeddedEnv })).exitCode).toBe(0);

    const badEmail = await run(['users', 'create', '--tenant', 'acai-resellers', '--email', 'not-an-email']);
    expect(badEmail.exitCode).toBe(2);
  });
});

describe('data commands through a running daemon', () => {
  it('see what was written without it, seed idempotently and rotate the demo tokens', async () => {
    const daemon = await startDaemon({ dataDir, env: embeddedEnv, apiWorkers: 1 });
    const listed = await run(['tenants', 'list', '--json']);
    expect(JSON.parse(listed.stdout).map((t: { slug: string }) => t.slug)).toEqual(['acai-resellers']);

    const first = JSON.parse((await run(['seed', '--demo', '--tenants', '3', '--json'])).stdout);
    expect(first.tenants.map((t: { slug: string; plan: string }) => [t.slug, t.plan])).toEqual([
      ['demo-1', 'free'],
      ['demo-2', 'pro'],
      ['demo-3', 'enterprise'],
    ]);
    const counts = async () =>
      JSON.parse((await run(['tenants', 'list', '--json'])).stdout).map(
        (t: { slug: string; users: number }) => [t.slug, t.users],
      );
    const before = await counts();
    const agents = async (token: string) =>
      fetch(`${daemon.url}/api/session/agents`, { headers: { authorization: `Bearer ${token}` } });
    const firstToken = first.tenants[1].user_tokens[0];
    expect((await agents(firstToken)).status).toBe(200);

    const plain = await run(['seed', '--demo', '--tenants', '3']);
    // The curl hint is the running daemon's URL, whatever port it listens on.
    expect(plain.stderr).toContain(`${daemon.url}/api/session/agents`);
    const second = JSON.parse((await run(['seed', '--demo', '--tenants', '3', '--json'])).stdout);
    expect(await counts()).toEqual(before);
    expect((await agents(firstToken)).status).toBe(401);
    const fresh = await agents(second.tenants[1].user_tokens[0]);
    expect(fresh.status).toBe(200);
    expect(((await fresh.json()) as { total: number }).total).toBe(5);

    // The control route the CLI uses to drop revoked tokens refuses anything but prefixes.
    const forget = (body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          { socketPath: path.join(dataDir, 'wuzctl.sock'), method: 'POST', path: '/auth/forget' },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect(await forget('not json')).toBe(400);
    expect(await forget('{"prefixes":["../../etc"]}')).toBe(400);
    expect(await forget('{"prefixes":["0123456789ab"]}')).toBe(200);

    const badCount = await run(['seed', '--demo', '--tenants', 'many']);
    expect(badCount.exitCode).toBe(2);
    expect(badCount.stderr).toMatch(/--tenants must be a whole number/);
    const badId = await run(['tokens', 'revoke', 'not-a-uuid']);
    expect(badId.exitCode).toBe(2);
    expect(badId.stderr).toMatch(/invalid token id/);

    const human = await run(['tenants', 'list']);
    expect(human.stdout).toMatch(/SLUG\s+NAME\s+PLAN/);
    expect(human.stdout).toMatch(/demo-3\s+Demo Reseller 3\s+enterprise/);

    // users list / tokens list: a token can be found and revoked without its creation output.
    const users = JSON.parse((await run(['users', 'list', '--tenant', 'demo-2', '--json'])).stdout);
    expect(users.map((u: { email: string }) => u.email)).toContain('admin@demo-2.example');
    expect(users.every((u: { tenant: string }) => u.tenant === 'demo-2')).toBe(true);
    expect(users.find((u: { email: string }) => u.email === 'admin@demo-2.example').live_tokens).toBe(1);
    const token = second.tenants[1].admin_token as string;
    const tokenList = await run(['tokens', 'list', '--user', 'admin@demo-2.example', '--json']);
    const [entry, ...others] = JSON.parse(tokenList.stdout);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ tenant: 'demo-2', email: 'admin@demo-2.example', revoked_at: null });
    expect(entry.prefix).toBe(token.slice(4, 16));
    // Never the secret, nor its hash.
    expect(tokenList.stdout).not.toContain(token.slice(17));
    expect(Object.keys(entry)).not.toContain('secret_hash');
    expect((await agents(token)).status).toBe(200);
    expect((await run(['tokens', 'revoke', entry.id])).exitCode).toBe(0);
    expect((await agents(token)).status).toBe(401);
    expect(
      JSON.parse((await run(['tokens', 'list', '--user', 'admin@demo-2.example', '--json'])).stdout),
    ).toEqual([]);
    const all = JSON.parse(
      (await run(['tokens', 'list', '--user', 'admin@demo-2.example', '--all', '--json'])).stdout,
    );
    expect(all.find((t: { id: string }) => t.id === entry.id).revoked_at).not.toBeNull();
    const table = await run(['tokens', 'list', '--tenant', 'demo-1']);
    expect(table.stdout).toMatch(/ID\s+TOKEN\s+TENANT\s+USER/);
    expect(table.stdout).toMatch(/wuz_[0-9a-f]{12}_…/);
    expect((await run(['users', 'list', '--tenant', 'nope'])).stderr).toMatch(/no tenant with slug "nope"/);
  });
});
