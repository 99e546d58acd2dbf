import { Command } from 'commander';
import { seedDemo } from '../../daemon/db/seed/demo.ts';
import { forgetCachedTokens, withDatabase } from '../database.ts';
import { bold, CliError, dim, exitCodes, printJson, table } from '../output.ts';

export function seedCommand(): Command {
  return new Command('seed')
    .description('create demo data: tenants on every plan, users, plans, subscriptions, agents, contacts')
    .requiredOption('--demo', 'the realistic demo data set (the only one so far)')
    .option('--tenants <n>', 'how many demo tenants (demo-1 … demo-N)', '3')
    .option('--data-dir <dir>', 'data dir [WUZ_DATA_DIR, default ./.wuzctl]')
    .option('--json', 'print {"tenants":[{"slug","plan","admin_token","user_tokens"}]}')
    .action(async (options: { tenants: string; dataDir?: string; json?: boolean }) => {
      const count = Number(options.tenants);
      if (!/^\d+$/.test(options.tenants) || count < 1 || count > 100) {
        throw new CliError('--tenants must be a whole number from 1 to 100', exitCodes.usage);
      }
      // Progress goes to stderr so that stdout stays the data (tokens or JSON).
      const progress = (line: string) => process.stderr.write(dim(`${line}\n`));
      const tenants = await withDatabase(options.dataDir, (pool, box) =>
        seedDemo(pool, box, count, progress),
      );
      await forgetCachedTokens(
        options.dataDir,
        tenants.flatMap((tenant) => tenant.revoked),
      );
      if (options.json) {
        printJson({ tenants: tenants.map(({ created: _created, revoked: _revoked, ...tenant }) => tenant) });
        return;
      }
      const rows = [['TENANT', 'PLAN', 'WHO', 'TOKEN'].map(dim)];
      for (const tenant of tenants) {
        rows.push([tenant.slug, tenant.plan, `admin@${tenant.slug}.example`, tenant.admin_token]);
        tenant.user_tokens.forEach((token, k) => {
          rows.push(['', '', `user${String(k + 1).padStart(2, '0')}@${tenant.slug}.example`, token]);
        });
      }
      process.stdout.write(`${table(rows)}\n`);
      process.stderr.write(
        `${bold('demo data ready.')} Tokens of earlier runs are revoked. Try:\n` +
          `  curl -H "Authorization: Bearer ${tenants[0]?.admin_token}" http://127.0.0.1:3000/api/session/agents\n`,
      );
    });
}
