import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import { dim } from '../output.ts';

/**
 * Progress on stderr (stdout is for the result): a spinner with the latest line on a
 * terminal, plain timestamped lines otherwise (CI logs, pipes).
 */
export interface Progress {
  line(message: string): void;
  done(message: string, ok: boolean): void;
  stop(): void;
}

export function createProgress(): Progress {
  const began = Date.now();
  const stamp = () => `${((Date.now() - began) / 1000).toFixed(1).padStart(5)}s`;
  if (!process.stderr.isTTY) {
    return {
      line: (message) => process.stderr.write(`[${stamp()}] ${message}\n`),
      done: (message) => process.stderr.write(`[${stamp()}] ${message}\n`),
      stop: () => {},
    };
  }
  let spinner: Spinner | null = null;
  return {
    line(message) {
      spinner ??= yoctoSpinner({ stream: process.stderr, handleSignals: false }).start();
      spinner.text = `${message} ${dim(stamp())}`;
    },
    done(message, ok) {
      if (!spinner) spinner = yoctoSpinner({ stream: process.stderr, handleSignals: false }).start();
      if (ok) spinner.success(message);
      else spinner.error(message);
      spinner = null;
    },
    stop() {
      spinner?.stop();
      spinner = null;
    },
  };
}
