import type nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import { errorMessage } from '../../services/retry.ts';
import type { AlertChannel, AlertNotification, DeliveryResult } from '../types.ts';
import { backoffDelay, sleepUnlessAborted, trimAnswer } from './delivery.ts';
import { alertDescription, alertTitle, isHttpUrl, TEST_NOTE, truncate } from './webhookFormat.ts';

/**
 * Delivers a notification by e-mail through one SMTP server (the operator's relay). A 4xx
 * reply or a dropped connection may pass on the next try; a 5xx reply (550 mailbox unknown,
 * 535 wrong password) would be refused again, so it ends the send at once.
 */
export interface EmailChannelOptions {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465. */
  smtpUrl: string;
  from: string;
  to: string[];
  /** Per wait (connecting, greeting, each reply). */
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

type Mailer = ReturnType<typeof nodemailer.createTransport>;

export class EmailChannel implements AlertChannel {
  readonly name = 'email' as const;
  // Loaded on the first message: nodemailer costs ~45 ms at every daemon start otherwise.
  #transport?: Promise<Mailer>;
  readonly #transportOptions: Parameters<typeof nodemailer.createTransport>[0];
  readonly #from: string;
  readonly #to: string[];
  readonly #where: string;
  readonly #password: string;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor({
    smtpUrl,
    from,
    to,
    timeoutMs = 10_000,
    maxAttempts = 3,
    baseDelayMs = 1000,
    maxDelayMs = 60_000,
  }: EmailChannelOptions) {
    const url = parseSmtpUrl(smtpUrl);
    if (to.length === 0) throw new Error('the e-mail channel needs at least one recipient');
    this.#from = from;
    this.#to = [...to];
    const port = url.port || (url.protocol === 'smtps:' ? '465' : '587');
    this.#where = `${url.hostname}:${port}`;
    this.#password = safeDecode(url.password);
    this.#maxAttempts = Math.max(1, maxAttempts);
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
    // nodemailer's defaults wait minutes (2 min to connect, 10 min idle): an alert loop
    // must hear back sooner.
    this.#transportOptions = {
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
    };
  }

  #mailer(): Promise<Mailer> {
    this.#transport ??= import('nodemailer').then(({ default: mailer }) =>
      mailer.createTransport(this.#transportOptions),
    );
    return this.#transport;
  }

  describe(): string {
    return `e-mail to ${this.#to.join(', ')} via ${this.#where}`;
  }

  async send(notification: AlertNotification, signal?: AbortSignal): Promise<DeliveryResult> {
    const message = {
      from: this.#from,
      to: this.#to,
      subject: emailSubject(notification),
      text: emailText(notification),
      html: emailHtml(notification),
    };
    let last: Omit<DeliveryResult, 'attempts'> = { ok: false, answer: 'not sent' };
    let attempts = 0;
    while (attempts < this.#maxAttempts && !signal?.aborted) {
      attempts++;
      let retry = false;
      try {
        const info = await (await this.#mailer()).sendMail(signal ? { ...message, signal } : message);
        const rejected = info.rejected.length > 0 ? ` (rejected: ${info.rejected.join(', ')})` : '';
        last = { ok: true, ...replyCode(info.response), answer: `${info.response}${rejected}` };
      } catch (error) {
        const e = error as NodemailerError;
        last = {
          ok: false,
          ...(typeof e.responseCode === 'number' ? { status: e.responseCode } : {}),
          answer: e.response || errorMessage(error),
        };
        retry = !signal?.aborted && isTransient(e);
      }
      if (last.ok || !retry || attempts >= this.#maxAttempts) break;
      const delay = backoffDelay(attempts, this.#baseDelayMs, this.#maxDelayMs);
      if (!(await sleepUnlessAborted(delay, signal))) break;
    }
    const stopped = !last.ok && signal?.aborted ? ' (stopped: the daemon is shutting down)' : '';
    return { ...last, attempts, answer: this.#clean(last.answer + stopped) };
  }

  #clean(text: string): string {
    const clean = this.#password.length >= 3 ? text.split(this.#password).join('…') : text;
    return trimAnswer(clean);
  }
}

/** 4xx replies are transient by RFC 5321; so is a connection that broke or timed out. */
function isTransient(error: NodemailerError): boolean {
  if (error.code === 'EABORT' || error.name === 'AbortError') return false;
  if (typeof error.responseCode === 'number') return error.responseCode >= 400 && error.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROXY'].includes(error.code ?? '');
}

function replyCode(response: string): { status?: number } {
  const match = /^(\d{3})\b/.exec(response);
  return match ? { status: Number(match[1]) } : {};
}

function parseSmtpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not echoed: the URL carries the password.
    throw new Error('the SMTP URL is not a valid URL (expected smtp://user:pass@host:587)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`the SMTP URL must start with smtp:// or smtps:// (got ${url.protocol})`);
  }
  if (!url.hostname) throw new Error('the SMTP URL has no host name');
  return url;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Loose on purpose: the SMTP server is the judge; this only catches a pasted list gone wrong. */
export function parseEmailList(text: string): string[] {
  const addresses: string[] = [];
  for (const part of text.split(/[,;]/)) {
    const address = part.trim();
    if (!address) continue;
    if (/\s/.test(address) || address.split('@').length !== 2 || /^@|@$/.test(address)) {
      throw new Error(`"${address}" is not an e-mail address (expected name@host, separated by commas)`);
    }
    if (!addresses.some((a) => a.toLowerCase() === address.toLowerCase())) addresses.push(address);
  }
  if (addresses.length === 0)
    throw new Error('no e-mail address given (expected name@host, separated by commas)');
  return addresses;
}

// ---- the message --------------------------------------------------------------------------

export function emailSubject(n: AlertNotification): string {
  return truncate(alertTitle(n).replace(/[\r\n]+/g, ' '), 250);
}

function detailRows(n: AlertNotification): [string, string][] {
  const rows: [string, string | null | undefined][] = [
    ['Severity', n.severity],
    ['Value', n.value],
    ['Threshold', n.threshold],
    ['Since', n.startsAt],
    ['Resolved at', n.kind === 'resolved' ? n.endsAt : null],
    ['Instance', n.instance],
    ['Runbook', n.runbookUrl],
  ];
  return rows.filter((row): row is [string, string] => typeof row[1] === 'string' && row[1] !== '');
}

export function emailText(n: AlertNotification): string {
  const rows = detailRows(n).map(([name, value]) => `${`${name}:`.padEnd(13)}${value}`);
  return [alertTitle(n), '', alertDescription(n), '', ...rows, '', '-- ', 'Sent by wuzctl alerts.', ''].join(
    '\n',
  );
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function emailHtml(n: AlertNotification): string {
  const cell = (name: string, value: string) => {
    // file: runbooks are shown, not linked: mail clients will not open them anyway.
    const shown =
      name === 'Runbook' && isHttpUrl(value)
        ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>`
        : escapeHtml(value);
    return `<tr><th align="left" style="padding-right:1em">${escapeHtml(name)}</th><td>${shown}</td></tr>`;
  };
  const note = n.kind === 'test' ? `<p><strong>${escapeHtml(TEST_NOTE)}</strong></p>` : '';
  return [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(alertTitle(n))}</h2>`,
    note,
    `<p>${escapeHtml(n.description)}</p>`,
    `<table>${detailRows(n)
      .map(([name, value]) => cell(name, value))
      .join('')}</table>`,
    '<p style="color:#777">Sent by wuzctl alerts.</p>',
    '</body></html>',
  ].join('\n');
}
