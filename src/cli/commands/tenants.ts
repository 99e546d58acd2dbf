import { Command, Option } from 'commander';
import {
  createTenant,
  listTenants,
  SLUG_PATTERN,
  setTenantPlan,
  slugify,
  TENANT_PLANS,
  type TenantPlan,
} from '../../daemon/db/repositories/tenants.ts';
import { forgetCachedTokens, withDatabase } from '../database.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { CliError, dim, exitCodes, green, printJson, suggest, table } from '../output.ts';

export function tenantsCommand(): Command {
  const tenants = new Command('tenants').description('create and list tenants (reseller accounts)');

  tenants
    .command('create')
    .description('create a tenant')
    .argument('<name>', 'display name, e.g. "Acme Resellers"')
    .addOption(new Option('--plan <plan>', 'the tenant plan').choices(TENANT_PLANS).default('free'))
    .option('--slug <slug>', 'URL-safe id (default: derived from the name)')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"id","slug","plan"}'))
    .action(
      async (
        name: string,
        options: { plan: TenantPlan; slug?: string; dataDir?: string; json?: boolean },
      ) => {
        const displayName = name.trim();
        if (displayName.length === 0 || displayName.length > 100) {
          throw new CliError('the tenant name must be 1 to 100 characters', exitCodes.usage);
        }
        const slug = options.slug ?? slugify(displayName);
        if (!SLUG_PATTERN.test(slug)) {
          throw new CliError(
            `invalid slug ${JSON.stringify(slug)}: lower-case letters, digits and dashes, up to 63`,
            exitCodes.usage,
            options.slug ? undefined : 'pass one with --slug',
          );
        }
        const tenant = await withDatabase(options.dataDir, (pool) =>
          createTenant(pool, { name: displayName, slug, plan: options.plan }),
        ).catch((error) => {
          if (error instanceof CliError && /slug already exists/.test(error.message)) {
            throw new CliError(
              `a tenant with slug "${slug}" already exists`,
              exitCodes.failure,
              'choose another with --slug',
            );
          }
          throw error;
        });
        if (options.json) printJson({ id: tenant.id, slug: tenant.slug, plan: tenant.plan });
        else
          process.stdout.write(
            `${green('created')} tenant ${tenant.slug} (${tenant.plan}) ${dim(tenant.id)}\n`,
          );
      },
    );

  tenants
    .command('list')
    .description('list every tenant with its user counts')
    .addOption(dataDirOption())
    .addOption(jsonOption('print a JSON array'))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const rows = await withDatabase(options.dataDir, listTenants);
      if (options.json) {
        printJson(rows);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(
          `no tenants yet ${dim('(wuzctl tenants create <name>, or wuzctl seed --demo)')}\n`,
        );
        return;
      }
      process.stdout.write(
        `${table([
          ['SLUG', 'NAME', 'PLAN', 'USERS', 'ADMINS', 'CREATED'].map(dim),
          ...rows.map((t) => [
            t.slug,
            t.name,
            t.plan,
            String(t.users),
            String(t.admins),
            t.created_at.toISOString().slice(0, 10),
          ]),
        ])}\n`,
      );
    });

  tenants
    .command('set-plan')
    .description('move a tenant to another plan; its rate limit changes at the next request')
    .argument('<slug>', 'the tenant')
    .argument('<plan>', `the new plan: ${TENANT_PLANS.join(', ')}`)
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"slug","plan","previous"}'))
    .action(async (slug: string, plan: string, options: { dataDir?: string; json?: boolean }) => {
      if (!(TENANT_PLANS as readonly string[]).includes(plan)) {
        throw new CliError(`unknown plan "${plan}"`, exitCodes.usage, `plans: ${TENANT_PLANS.join(', ')}`);
      }
      const changed = await withDatabase(options.dataDir, (pool) =>
        setTenantPlan(pool, slug, plan as TenantPlan),
      );
      if (!changed) {
        throw new CliError(
          `no tenant with slug "${slug}"`,
          exitCodes.failure,
          `see them with \`${suggest('wuzctl tenants list', options.dataDir)}\``,
        );
      }
      // Cached token lookups carry the plan: drop them so the new limit applies now.
      await forgetCachedTokens(options.dataDir, changed.prefixes, 'the old plan’s limit may apply');
      if (options.json) printJson({ slug, plan, previous: changed.previous });
      else process.stdout.write(`${green('moved')} tenant ${slug} from ${changed.previous} to ${plan}\n`);
    });

  return tenants;
}
