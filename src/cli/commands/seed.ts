import { Command } from 'commander';
import { resolveDataDir } from '../../daemon/config/dataPaths.ts';
import { seedDemo } from '../../daemon/db/seed/demo.ts';
import { DaemonClient } from '../client.ts';
import { forgetCachedTokens, withDatabase } from '../database.ts';
import { dataDirOption, jsonOption } from '../options.ts';
import { bold, CliError, dim, exitCodes, printJson, suggest, table } from '../output.ts';

export function seedCommand(): Command {
  return new Command('seed')
    .description(
      'create demo data: tenants on every plan, users, plans, subscriptions, agents, contacts, campaigns, imports, reports',
    )
    .requiredOption('--demo', 'the realistic demo data set (the only one so far)')
    .option('--tenants <n>', 'how many demo tenants (demo-1 … demo-N)', '3')
    .addOption(dataDirOption())
    .addOption(jsonOption('print {"tenants":[{"slug","plan","admin_token","user_tokens"}]}'))
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
        `${bold('demo data ready.')} Tokens of earlier runs are revoked. ${await tryHint(options.dataDir, tenants[0]?.admin_token ?? '')}\n`,
      );
    });
}

/** A curl line against the daemon of this data dir, at the URL it really listens on. */
async function tryHint(dataDir: string | undefined, token: string): Promise<string> {
  const status = await new DaemonClient(resolveDataDir(dataDir)).status().catch(() => null);
  const url = status?.url;
  if (!url) return `Start the daemon (${suggest('wuzctl serve', dataDir)}), then try the token on its URL.`;
  return `Try:\n  curl -H "Authorization: Bearer ${token}" ${url}/api/session/agents`;
}
