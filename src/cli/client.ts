import type { AlertsSummary, Delivery } from '../daemon/alerts/loop.ts';
import type { AlertName, ChannelName } from '../daemon/alerts/types.ts';
import { dataPaths } from '../daemon/config/dataPaths.ts';
import type { KeyringText } from '../daemon/security/keyring.ts';
import type { RolloutStatus } from '../daemon/supervisor/rollout.ts';
import type { DaemonSnapshot } from '../daemon/supervisor/snapshot.ts';
import type { DaemonStatus } from '../daemon/supervisor/supervisor.ts';
import http from '../nodeHttp.ts';
import { CliError, exitCodes, suggest } from './output.ts';

/** Talks to a running daemon over its control socket in the data dir. */
export class DaemonClient {
  readonly socketPath: string;
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.socketPath = dataPaths(dataDir).socket;
  }

  status(): Promise<DaemonStatus> {
    return this.request('GET', '/status') as Promise<DaemonStatus>;
  }

  /** The database URL and the secret keys (for commands that write encrypted columns). */
  database(): Promise<{ url: string; keyring: KeyringText }> {
    return this.request('GET', '/database') as Promise<{ url: string; keyring: KeyringText }>;
  }

  redis(): Promise<{ url: string }> {
    return this.request('GET', '/redis') as Promise<{ url: string }>;
  }

  forgetTokens(prefixes: string[]): Promise<unknown> {
    return this.request('POST', '/auth/forget', JSON.stringify({ prefixes }));
  }

  snapshot(): Promise<DaemonSnapshot> {
    return this.request('GET', '/snapshot') as Promise<DaemonSnapshot>;
  }

  alerts(): Promise<AlertsSummary> {
    return this.request('GET', '/alerts') as Promise<AlertsSummary>;
  }

  /** Waits for the receivers' answers (with their retries): up to two minutes. */
  testAlert(body: {
    rule?: AlertName;
    channel?: ChannelName;
  }): Promise<{ rule: AlertName; deliveries: Delivery[] }> {
    return this.request('POST', '/alerts/test', JSON.stringify(body), 120_000) as Promise<{
      rule: AlertName;
      deliveries: Delivery[];
    }>;
  }

  silenceAlert(body: {
    rule: AlertName;
    forSeconds: number;
    reason: string;
    by: string;
  }): Promise<{ rule: AlertName; until: string; reason: string; shared: boolean }> {
    return this.request('POST', '/alerts/silence', JSON.stringify(body)) as Promise<{
      rule: AlertName;
      until: string;
      reason: string;
      shared: boolean;
    }>;
  }

  unsilenceAlert(rule: AlertName): Promise<{ rule: AlertName; removed: boolean; shared: boolean }> {
    return this.request('POST', '/alerts/unsilence', JSON.stringify({ rule })) as Promise<{
      rule: AlertName;
      removed: boolean;
      shared: boolean;
    }>;
  }

  /** The rollout in progress, else the last one: cheap to poll (no child is asked anything). */
  async rollout(): Promise<RolloutStatus | null> {
    return ((await this.request('GET', '/rollout')) as { rollout: RolloutStatus | null }).rollout;
  }

  reload(): Promise<RolloutStatus> {
    return this.request('POST', '/reload') as Promise<RolloutStatus>;
  }

  stop(): Promise<unknown> {
    return this.request('POST', '/stop');
  }

  private request(method: string, path: string, body?: string, timeoutMs = 10_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, method, path, timeout: timeoutMs, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if ((res.statusCode ?? 500) >= 400)
                reject(new CliError(body?.error?.message ?? `daemon answered ${res.statusCode}`));
              else resolve(body);
            } catch {
              reject(new CliError(`the daemon sent an unreadable answer to ${method} ${path}`));
            }
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new CliError(`the daemon did not answer ${method} ${path} in time`)),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
          reject(
            new CliError(
              `not running (no daemon at ${this.dataDir})`,
              exitCodes.notRunning,
              `start it with: ${suggest('wuzctl serve', this.dataDir)}`,
            ),
          );
        } else reject(error instanceof CliError ? error : new CliError(`control socket: ${error.message}`));
      });
      req.end(body);
    });
  }
}
