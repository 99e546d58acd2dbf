import { randomInt } from 'node:crypto';
import { ApiClient } from '../verify/http.ts';
import { contactIds, fakeMessages, waitForJob } from '../verify/workload.ts';
import type { BenchTarget } from './scenarios.ts';

/** The `campaign` scenario's figures: messages/s from the campaign's POST to its last send. */
export interface CampaignResult {
  scenario: 'campaign';
  recipients: number;
  enqueueMs: number;
  seconds: number;
  messagesPerSecond: number;
  /** Recipients the fake WuzAPI saw (must equal `recipients`). */
  delivered: number;
}

/**
 * A campaign to `recipients` contacts with no pacing, through the queue to the fake
 * WuzAPI: imported first (not timed), then sent (timed until the job completes).
 */
export async function benchCampaign(
  target: BenchTarget & { fakeWuzapi: string },
  recipients: number,
  progress: (line: string) => void,
): Promise<CampaignResult> {
  const token = target.tenants[0]?.user_tokens[0];
  if (!token) throw new Error('no demo tenant to run as');
  const client = new ApiClient(target.url, 4);
  try {
    const prefix = `+5595${String(randomInt(100_000, 999_999))}`;
    const rows = Array.from(
      { length: recipients },
      (_, i) => `${prefix}${String(i).padStart(5, '0')},Bench ${i}`,
    );
    const upload = await client.request('POST', '/api/imports?filename=bench.csv', token, undefined, {
      text: `phone,name\n${rows.join('\n')}\n`,
      type: 'text/csv',
    });
    if (upload.status !== 202) throw new Error(`POST /api/imports answered ${upload.status}`);
    const deadline = Date.now() + 600_000;
    await waitForJob(client, token, (upload.body as { job_id: string }).job_id, deadline);
    const ids = await contactIds(client, token, prefix, recipients);
    progress(`campaign: ${ids.length} recipients imported; sending`);
    const began = performance.now();
    const answer = await client.request('POST', '/api/campaigns', token, {
      name: `bench ${prefix}`,
      template: 'Hello {{name}}',
      audience: { contact_ids: ids },
      session_token: 'bench-session',
      min_delay_ms: 0,
      max_delay_ms: 0,
    });
    const enqueueMs = performance.now() - began;
    if (answer.status !== 202) throw new Error(`POST /api/campaigns answered ${answer.status}`);
    await waitForJob(client, token, (answer.body as { job_id: string }).job_id, deadline, (p) =>
      progress(`campaign: ${p.sent ?? 0}/${p.total ?? '?'} sent`),
    );
    const seconds = (performance.now() - began) / 1000;
    const delivered = new Set(
      (await fakeMessages(target.fakeWuzapi))
        .filter((m) => m.phone.startsWith(prefix.slice(1)))
        .map((m) => m.phone),
    ).size;
    return {
      scenario: 'campaign',
      recipients: ids.length,
      enqueueMs: Math.round(enqueueMs * 10) / 10,
      seconds: Math.round(seconds * 100) / 100,
      messagesPerSecond: Math.round(ids.length / seconds),
      delivered,
    };
  } finally {
    client.close();
  }
}
