/**
 * Password hashes for token-service users: scrypt (node:crypto) with a fresh 16-byte salt per
 * hash and a 32-byte key, stored in the PHC string format
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (base64 without padding). The cost travels
 * with the hash, so raising the default later keeps old hashes verifiable.
 *
 * Comparison is constant-time (`timingSafeEqual`), and `verifyAgainstNothing` spends the same
 * work when the user does not exist, so timing does not tell which user names are taken.
 *
 * Not here: bcrypt/htpasswd hashes (node:crypto has no bcrypt; importing an htpasswd file would
 * need a dependency or a hand-written Blowfish, left for when someone needs the import).
 *
 * Example:
 *   const h = await hashPassword('s3cret');
 *   await passwordMatches(h, 's3cret'); // true
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Default cost: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds per hash). */
export const DEFAULT_SCRYPT_LOG_N = 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Longest password accepted (bytes of UTF-8); longer input is refused before hashing. */
export const MAX_PASSWORD_BYTES = 1024;

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, opts, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

/** @throws RangeError for an empty or over-long password, or a cost outside 10..20 */
export async function hashPassword(password: string, logN: number = DEFAULT_SCRYPT_LOG_N): Promise<string> {
  checkPassword(password);
  if (!Number.isInteger(logN) || logN < 10 || logN > 20) throw new RangeError(`scrypt cost log2(N) must be 10..20, got ${logN}`);
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, logN, R, P);
  return `$scrypt$ln=${logN},r=${R},p=${P}$${b64(salt)}$${b64(key)}`;
}

/** @throws RangeError for an empty or over-long password */
export function checkPassword(password: string): void {
  if (password.length === 0) throw new RangeError('password must not be empty');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new RangeError(`password longer than ${MAX_PASSWORD_BYTES} bytes`);
}

/** True when `password` matches `hash`; false for a wrong password or an unreadable hash. */
export async function passwordMatches(hash: string, password: string): Promise<boolean> {
  const m = PHC.exec(hash);
  if (m === null || password.length === 0 || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return false;
  const logN = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (logN < 10 || logN > 20 || r < 1 || p < 1) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const got = await derive(password, Buffer.from(m[4]!, 'base64'), logN, r, p);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const dummyFor = new Map<number, Promise<string>>();

/** Spend the work of one verification at cost `logN` and return false (for unknown users). */
export async function verifyAgainstNothing(password: string, logN: number = DEFAULT_SCRYPT_LOG_N): Promise<false> {
  let h = dummyFor.get(logN);
  if (h === undefined) {
    h = hashPassword('vouch: no such user', logN);
    dummyFor.set(logN, h);
  }
  await passwordMatches(await h, password.length === 0 ? 'x' : password);
  return false;
}
