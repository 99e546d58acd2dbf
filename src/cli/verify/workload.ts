import { setTimeout as sleep } from 'node:timers/promises';
import { GateCannotRun } from './gate.ts';
import type { ApiClient } from './http.ts';

/** What gates that run jobs share: waiting for a job, and what the fake WuzAPI received. */
export interface FakeMessage {
  id: string;
  phone: string;
  body: string;
  receivedAt: number;
  deliveries: number;
  /** The `traceparent` header of each delivery (null: none). */
  traceparents?: (string | null)[];
}

export interface JobView {
  state: string;
  error?: string;
  progress?: Record<string, number>;
}

export async function waitForJob(
  client: ApiClient,
  token: string,
  jobId: string,
  deadline: number,
  onProgress?: (progress: Record<string, number>) => void,
): Promise<JobView> {
  let lastReport = 0;
  for (;;) {
    const answer = await client.request('GET', `/api/jobs/${jobId}/status`, token);
    const job = answer.body as JobView;
    if (answer.status !== 200) throw new GateCannotRun(`job status answered ${answer.status}`);
    if (job.state === 'completed' || job.state === 'failed') return job;
    if (Date.now() > deadline) return { ...job, error: `still ${job.state} at the gate's timeout` };
    if (onProgress && job.progress && Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      onProgress(job.progress);
    }
    await sleep(100);
  }
}

export async function fakeMessages(url: string): Promise<FakeMessage[]> {
  const response = await fetch(`${url}/_fake/messages`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET /_fake/messages answered ${response.status}`);
  return ((await response.json()) as { messages: FakeMessage[] }).messages;
}

/** The ids of a tenant's contacts whose phone starts with `prefix`, page by page (as a client would). */
export async function contactIds(
  client: ApiClient,
  token: string,
  prefix: string,
  expected: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ids.length < expected; page++) {
    const answer = await client.request(
      'GET',
      `/api/contacts?q=${encodeURIComponent(prefix)}&per_page=100&page=${page}`,
      token,
    );
    const rows = (answer.body as { data?: Array<{ id: string }> }).data ?? [];
    if (rows.length === 0) break;
    ids.push(...rows.map((row) => row.id));
  }
  return ids;
}
