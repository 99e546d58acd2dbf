import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677), as PostgreSQL speaks it, for the
 * embedded database's wire server: `pg` authenticates with the password without ever
 * sending it, and proves nothing to an eavesdropper it could replay. Channel binding is
 * not offered (the wire server declines TLS on its loopback port).
 */
export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096;

/** What the server keeps of a password: never the password itself. */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

export function scramVerifier(
  password: string,
  salt = randomBytes(16),
  iterations = ITERATIONS,
): ScramVerifier {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key'),
  };
}

/** Thrown for a message that does not follow the exchange: the connection is refused. */
export class ScramProtocolError extends Error {}

/** One exchange: client-first → server-first, client-final → server-final (or refusal). */
export class ScramExchange {
  private readonly verifier: ScramVerifier;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';

  constructor(verifier: ScramVerifier) {
    this.verifier = verifier;
  }

  /** The server-first-message for the client-first-message. */
  first(clientFirst: string): string {
    const match = /^([ny]),(?:a=[^,]*)?,(n=[^,]*,r=([!-+\--~]+)(?:,.*)?)$/.exec(clientFirst);
    if (!match) throw new ScramProtocolError('malformed SCRAM client-first-message');
    this.gs2Header = clientFirst.slice(0, clientFirst.length - (match[2] as string).length);
    this.clientFirstBare = match[2] as string;
    this.nonce = (match[3] as string) + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** The server-final-message when the client's proof holds, null when the password is wrong. */
  final(clientFinal: string): string | null {
    const match = /^(c=([^,]*),r=([^,]*)(?:,.*)?),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
    if (!match) throw new ScramProtocolError('malformed SCRAM client-final-message');
    const [, withoutProof, binding, nonce, proofText] = match as unknown as string[];
    if (Buffer.from(binding as string, 'base64').toString() !== this.gs2Header || nonce !== this.nonce) {
      throw new ScramProtocolError('SCRAM channel binding or nonce mismatch');
    }
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(proofText as string, 'base64');
    const signature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== signature.length) return null;
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return null;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}
