import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/**
 * A local SMTP server for tests and gates: plain text on 127.0.0.1 (no certificate to
 * manage), AUTH PLAIN/LOGIN required when a user is given, every message kept, and a
 * switch to answer the next DATA commands with a transient (451) or permanent (550) error.
 */
export interface ReceivedMail {
  at: number;
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** The Subject header, encoded words decoded. */
  subject: string;
  /** The text/plain part, decoded (the whole body when the message is not multipart). */
  text: string;
  /** The text/html part, decoded; '' when there is none. */
  html: string;
  /** The message as received. */
  raw: string;
  /** The user that authenticated; undefined without AUTH. */
  user?: string;
}

export interface SmtpReceiverOptions {
  port?: number;
  user?: string;
  password?: string;
}

export interface SmtpReceiver {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** The next `n` DATA commands are answered `code` (451: try again later, 550: refused). */
  rejectNext(n: number, code: number, message?: string): void;
  waitFor(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startSmtpReceiver({
  port = 0,
  user,
  password,
}: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const rejections: { code: number; message: string }[] = [];
  const waiters = new Set<{ predicate: (m: ReceivedMail) => boolean; resolve: (m: ReceivedMail) => void }>();
  const needsAuth = user !== undefined;

  const server = new SMTPServer({
    secure: false,
    // No STARTTLS: it would use smtp-server's built-in (publicly known) certificate, and
    // nodemailer sends in plain text to a server that does not offer it.
    disabledCommands: needsAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !needsAuth,
    // Loopback only: a password in clear text is fine here.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === (password ?? '')) {
        callback(null, { user: auth.username });
        return;
      }
      const error: SMTPServerError = new Error('Invalid username or password');
      error.responseCode = 535;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const rejection = rejections.shift();
        if (rejection) {
          const error: SMTPServerError = new Error(rejection.message);
          error.responseCode = rejection.code;
          callback(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail: ReceivedMail = {
          at: Date.now(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          ...parseMessage(raw),
          raw,
          ...(typeof session.user === 'string' ? { user: session.user } : {}),
        };
        messages.push(mail);
        for (const waiter of waiters) {
          if (!waiter.predicate(mail)) continue;
          waiters.delete(waiter);
          waiter.resolve(mail);
        }
        callback(null, 'OK: message queued');
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  const credentials = needsAuth ? `${encodeURIComponent(user)}:${encodeURIComponent(password ?? '')}@` : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${actualPort}`,
    port: actualPort,
    messages,
    rejectNext(n, code, message) {
      const text = message ?? (code >= 500 ? 'Mailbox unavailable' : 'Try again later');
      for (let i = 0; i < n; i++) rejections.push({ code, message: text });
    },
    waitFor(predicate = () => true, timeoutMs = 5000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (mail: ReceivedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching e-mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- just enough MIME to read what nodemailer writes ---------------------------------------

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  const head = end === -1 ? normalised : normalised.slice(0, end);
  const body = end === -1 ? '' : normalised.slice(end + 2);
  const headers = new Map<string, string>();
  // Folded header lines continue with whitespace.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parseMessage(raw: string): Pick<ReceivedMail, 'subject' | 'text' | 'html'> {
  const top = splitPart(raw);
  const leaves: Part[] = [];
  collectLeaves(top, leaves, 0);
  const find = (type: string) =>
    leaves.find((p) => (p.headers.get('content-type') ?? 'text/plain').startsWith(type));
  const text = find('text/plain');
  const html = find('text/html');
  return {
    subject: decodeWords(top.headers.get('subject') ?? ''),
    text: text ? decodeBody(text) : '',
    html: html ? decodeBody(html) : '',
  };
}

function collectLeaves(part: Part, leaves: Part[], depth: number): void {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith('multipart/') || !boundary || depth > 5) {
    leaves.push(part);
    return;
  }
  const sections = part.body.split(`--${boundary}`).slice(1);
  for (const section of sections) {
    if (section.startsWith('--')) break; // the closing delimiter
    collectLeaves(splitPart(section.replace(/^\n/, '')), leaves, depth + 1);
  }
}

function decodeBody(part: Part): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const body = part.body.replace(/\n$/, '');
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const unfolded = text.replace(/=\n/g, ''); // soft line breaks
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unfolded[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes a non-ASCII subject. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?') // whitespace between encoded words is not part of the text
    .replace(/=\?([^?]+)\?([BQbq])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, data: string) => {
      if (encoding.toUpperCase() === 'B') return Buffer.from(data, 'base64').toString('utf8');
      return decodeQuotedPrintable(data.replace(/_/g, ' '));
    });
}
