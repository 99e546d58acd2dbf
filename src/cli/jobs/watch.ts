import { setTimeout as sleep } from 'node:timers/promises';
import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import type { JobState, JobStatus } from '../../daemon/queues/jobStatus.ts';
import { notFound } from './read.ts';
import { describeProgress } from './render.ts';

/** How often `jobs status --watch` reads the job. */
const POLL_MS = 500;

const isFinal = (state: JobState) => state === 'completed' || state === 'failed';

/**
 * Polls until the job completes or fails and returns its last status. A terminal gets a
 * spinner line on stderr; otherwise each change is one line on stdout (NDJSON with --json).
 */
export async function watch(
  first: JobStatus,
  read: () => Promise<JobStatus | null>,
  json: boolean,
): Promise<JobStatus> {
  const spinner: Spinner | null =
    !json && process.stderr.isTTY
      ? yoctoSpinner({ stream: process.stderr, handleSignals: false }).start()
      : null;
  const interrupted = () => {
    spinner?.stop();
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  let status = first;
  let shown = '';
  try {
    for (;;) {
      const key = JSON.stringify(status);
      if (key !== shown) {
        shown = key;
        if (json) process.stdout.write(`${key}\n`);
        else if (spinner) spinner.text = watchLine(status);
        else process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${watchLine(status)}\n`);
      }
      if (isFinal(status.state)) break;
      await sleep(POLL_MS);
      const next = await read();
      if (!next) throw notFound(status.id, 'it was removed while being watched');
      status = next;
    }
  } finally {
    process.off('SIGINT', interrupted);
    if (spinner && !isFinal(status.state)) spinner.stop();
  }
  if (spinner) {
    if (status.state === 'completed') spinner.success(watchLine(status));
    else spinner.error(watchLine(status));
  }
  return status;
}

/** Short enough for one terminal line: the id is the one the user typed. */
const watchLine = (status: JobStatus) =>
  `${status.queue} job ${status.state} · ${describeProgress(status.progress)}`;
