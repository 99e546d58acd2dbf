import { Command } from 'commander';
import type pg from 'pg';
import { isUuid } from '../../daemon/api/validate.ts';
import { findTenantBySlug } from '../../daemon/db/repositories/tenants.ts';
import { createToken, listTokens, revokeToken } from '../../daemon/db/repositories/tokens.ts';
import { findUserByEmail, findUsersByEmailAnyTenant, type User } from '../../daemon/db/repositories/users.ts';
import { forgetCachedTokens, withDatabase } from '../database.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, exitCodes, green, printJson, shellWord, suggest, table, yellow } from '../output.ts';
import { checkEmail, unknownTenant } from './users.ts';

async function findUser(
  pool: pg.Pool,
  email: string,
  tenantSlug: string | undefined,
  dataDir: string | undefined,
): Promise<User & { tenant_slug: string }> {
  if (tenantSlug) {
    const tenant = await findTenantBySlug(pool, tenantSlug);
    if (!tenant) throw unknownTenant(tenantSlug, dataDir);
    const user = await findUserByEmail(pool, tenant.id, email);
    if (!user) throw new CliError(`no user ${email} in tenant ${tenantSlug}`);
    return { ...user, tenant_slug: tenant.slug };
  }
  const matches = await findUsersByEmailAnyTenant(pool, email);
  if (matches.length === 0)
    throw new CliError(
      `no user with email ${email}`,
      exitCodes.failure,
      `create one with: ${suggest(`wuzctl users create --tenant <slug> --email ${shellWord(email)}`, dataDir)}`,
    );
  if (matches.length > 1) {
    throw new CliError(
      `${email} is a user of ${matches.length} tenants (${matches.map((m) => m.tenant_slug).join(', ')})`,
      exitCodes.usage,
      'say which with --tenant <slug>',
    );
  }
  return matches[0] as User & { tenant_slug: string };
}

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('create and revoke API tokens');

  tokens
    .command('create')
    .description('create an API token for a user; it is printed once and never stored')
    .requiredOption('--user <email>', "the token's user")
    .option('--tenant <slug>', "the user's tenant (needed when the email exists in several)")
    .option('--name <name>', 'a label to recognise the token by', 'cli')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"token","id","user"}'))
    .action(
      async (options: { user: string; tenant?: string; name: string; dataDir?: string; json?: boolean }) => {
        const email = checkEmail(options.user);
        const label = options.name.trim();
        if (!label || label.length > 100)
          throw new CliError('--name must be 1 to 100 characters', exitCodes.usage);
        const { user, token } = await withDatabase(options.dataDir, async (pool) => {
          const user = await findUser(pool, email, options.tenant, options.dataDir);
          return {
            user,
            token: await createToken(pool, { tenantId: user.tenant_id, userId: user.id, name: label }),
          };
        });
        if (options.json) {
          printJson({
            token: token.token,
            id: token.id,
            user: user.email,
            tenant: user.tenant_slug,
            role: user.role,
          });
          return;
        }
        process.stdout.write(`${token.token}\n`);
        process.stderr.write(
          `${green('created')} token ${dim(token.id)} for ${user.email} (${user.role}, ${user.tenant_slug})\n` +
            `${yellow('store it now:')} it is not shown again\n`,
        );
      },
    );

  tokens
    .command('revoke')
    .description('revoke a token by its id; requests with it get 401 from then on')
    .argument('<id>', 'the token id printed by tokens create')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"id","revoked"}'))
    .action(async (id: string, options: { dataDir?: string; json?: boolean }) => {
      if (!isUuid(id)) throw new CliError(`invalid token id ${JSON.stringify(id)} (a UUID)`, exitCodes.usage);
      const revoked = await withDatabase(options.dataDir, (pool) => revokeToken(pool, id.toLowerCase()));
      if (!revoked) throw new CliError(`no live token with id ${id}`, exitCodes.failure);
      await forgetCachedTokens(options.dataDir, [revoked.prefix]);
      if (options.json) printJson({ id: revoked.id, revoked: true, user: revoked.email });
      else process.stdout.write(`${green('revoked')} token ${revoked.id} of ${revoked.email}\n`);
    });

  tokens
    .command('list')
    .description('list tokens (id, owner, name, created, last used, revoked) — never their secret')
    .option('--user <email>', "only this user's tokens")
    .option('--tenant <slug>', 'only this tenant')
    .option('--all', 'revoked tokens too')
    .addOption(dataDirOption())
    .addOption(jsonOption('print a JSON array'))
    .action(
      async (options: {
        user?: string;
        tenant?: string;
        all?: boolean;
        dataDir?: string;
        json?: boolean;
      }) => {
        const email = options.user === undefined ? undefined : checkEmail(options.user);
        const rows = await withDatabase(options.dataDir, async (pool) => {
          if (options.tenant && !(await findTenantBySlug(pool, options.tenant)))
            throw unknownTenant(options.tenant, options.dataDir);
          return listTokens(pool, {
            tenantSlug: options.tenant,
            email,
            includeRevoked: Boolean(options.all),
          });
        });
        if (options.json) return printJson(rows);
        if (rows.length === 0) {
          process.stdout.write(
            `no tokens ${dim(`(${suggest('wuzctl tokens create --user <email>', options.dataDir)})`)}\n`,
          );
          return;
        }
        const day = (date: Date | null) => (date ? date.toISOString().slice(0, 16).replace('T', ' ') : '-');
        process.stdout.write(
          `${table([
            ['ID', 'TOKEN', 'TENANT', 'USER', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'].map(dim),
            ...rows.map((t) => [
              t.id,
              `wuz_${t.prefix}_…`,
              t.tenant,
              t.email,
              t.name,
              day(t.created_at),
              day(t.last_used_at),
              day(t.revoked_at),
            ]),
          ])}\n`,
        );
        process.stderr.write(
          dim(`revoke one with: ${suggest('wuzctl tokens revoke <id>', options.dataDir)}\n`),
        );
      },
    );

  return tokens;
}
