import { Command, Option } from 'commander';
import { z } from 'zod';
import { findTenantBySlug } from '../../daemon/db/repositories/tenants.ts';
import { createUser, listUsersOverview, type UserRole } from '../../daemon/db/repositories/users.ts';
import { withDatabase } from '../database.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, exitCodes, green, printJson, suggest, table } from '../output.ts';

const emailSchema = z.email();

export function checkEmail(value: string): string {
  const email = value.trim();
  if (!emailSchema.safeParse(email).success || email.length > 254) {
    throw new CliError(`invalid email ${JSON.stringify(value)}`, exitCodes.usage);
  }
  return email;
}

export function unknownTenant(slug: string, dataDir: string | undefined): CliError {
  return new CliError(
    `no tenant with slug "${slug}"`,
    exitCodes.failure,
    `list them with: ${suggest('wuzctl tenants list', dataDir)}`,
  );
}

export function usersCommand(): Command {
  const users = new Command('users').description("manage a tenant's users");

  users
    .command('create')
    .description('create a user in a tenant')
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--email <email>', 'the email, unique in the tenant')
    .addOption(
      new Option('--role <role>', 'admin runs the tenant; user is its customer')
        .choices(['admin', 'user'])
        .default('user'),
    )
    .option('--name <name>', 'display name')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"id","email","role","tenant"}'))
    .action(
      async (options: {
        tenant: string;
        email: string;
        role: UserRole;
        name?: string;
        dataDir?: string;
        json?: boolean;
      }) => {
        const email = checkEmail(options.email);
        const name = (options.name ?? '').trim();
        if (name.length > 100) throw new CliError('--name must be at most 100 characters', exitCodes.usage);
        const user = await withDatabase(options.dataDir, async (pool) => {
          const tenant = await findTenantBySlug(pool, options.tenant);
          if (!tenant) throw unknownTenant(options.tenant, options.dataDir);
          return createUser(pool, { tenantId: tenant.id, email, name, role: options.role });
        });
        if (options.json)
          printJson({ id: user.id, email: user.email, role: user.role, tenant: options.tenant });
        else
          process.stdout.write(
            `${green('created')} ${user.role} ${user.email} in ${options.tenant} ${dim(user.id)}\n`,
          );
      },
    );

  users
    .command('list')
    .description('list users (every tenant, or one) with their count of live tokens')
    .option('--tenant <slug>', 'only this tenant')
    .addOption(dataDirOption())
    .addOption(jsonOption('print a JSON array'))
    .action(async (options: { tenant?: string; dataDir?: string; json?: boolean }) => {
      const rows = await withDatabase(options.dataDir, async (pool) => {
        if (options.tenant && !(await findTenantBySlug(pool, options.tenant)))
          throw unknownTenant(options.tenant, options.dataDir);
        return listUsersOverview(pool, options.tenant);
      });
      if (options.json) return printJson(rows);
      if (rows.length === 0) {
        process.stdout.write(
          `no users yet ${dim(`(${suggest('wuzctl users create', options.dataDir)} …)`)}\n`,
        );
        return;
      }
      process.stdout.write(
        `${table([
          ['TENANT', 'EMAIL', 'NAME', 'ROLE', 'TOKENS', 'CREATED'].map(dim),
          ...rows.map((u) => [
            u.tenant,
            u.email,
            u.name,
            u.role,
            String(u.live_tokens),
            u.created_at.toISOString().slice(0, 10),
          ]),
        ])}\n`,
      );
    });

  return users;
}
