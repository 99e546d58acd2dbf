import { setTimeout as sleep } from 'node:timers/promises';
import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import { dim } from '../output.ts';

/**
 * Progress on stderr (stdout is for the result): a spinner with the latest line on a
 * terminal, plain timestamped lines otherwise (CI logs, pipes).
 */
export interface Progress {
  line(message: string): void;
  /** Waits `ms`, saying why: a live countdown on a terminal, one line otherwise. */
  wait(message: string, ms: number): Promise<void>;
  done(message: string, ok: boolean): void;
  stop(): void;
}

/** How often a terminal's line is redrawn: the elapsed time and a countdown never freeze. */
const TICK_MS = 250;

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const began = Date.now();
  const stamp = () => `${((Date.now() - began) / 1000).toFixed(1).padStart(5)}s`;
  if (!stream.isTTY) {
    const line = (message: string) => stream.write(`[${stamp()}] ${message}\n`);
    return {
      line,
      async wait(message, ms) {
        line(`${message} (${Math.ceil(ms / 1000)} s)`);
        await sleep(ms);
      },
      done: line,
      stop: () => {},
    };
  }
  let spinner: Spinner | null = null;
  let text: () => string = () => '';
  let ticker: NodeJS.Timeout | undefined;
  const show = (render: () => string) => {
    text = render;
    spinner ??= yoctoSpinner({ stream, handleSignals: false }).start();
    spinner.text = `${text()} ${dim(stamp())}`;
    ticker ??= setInterval(() => {
      if (spinner) spinner.text = `${text()} ${dim(stamp())}`;
    }, TICK_MS);
    ticker.unref();
  };
  const clear = () => {
    clearInterval(ticker);
    ticker = undefined;
    spinner = null;
  };
  return {
    line(message) {
      show(() => message);
    },
    async wait(message, ms) {
      const until = Date.now() + ms;
      show(() => `${message}: ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s left`);
      await sleep(ms);
    },
    done(message, ok) {
      if (!spinner) spinner = yoctoSpinner({ stream, handleSignals: false }).start();
      if (ok) spinner.success(message);
      else spinner.error(message);
      clear();
    },
    stop() {
      spinner?.stop();
      clear();
    },
  };
}
