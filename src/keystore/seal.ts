/**
 * Sealing of server-managed private keys at rest (spec §8.3): a compact JWE with alg
 * `PBES2-HS256+A128KW` (PBKDF2-HMAC-SHA256, p2c 8192, random 16-byte p2s) and enc `A256GCM`,
 * whose payload is the raw private key bytes of spec §2.4. This is the format of
 * notary-signer's `private_keys.private` column, so rows can move between the two.
 *
 * Not done here: choosing the passphrase (aliases are the caller's business) or parsing the
 * raw bytes into a key (src/crypto).
 *
 * @example
 *   const jwe = await sealPrivateKey(key.raw, passphrase);
 *   const raw = await unsealPrivateKey(jwe, passphrase);
 */
import { PassphraseError, StorageError } from '../errors/index.ts';

export const KEYWRAP_ALG = 'PBES2-HS256+A128KW';
export const ENCRYPTION_ALG = 'A256GCM';
/** notary-signer's (jose2go's) PBKDF2 iteration count. */
export const PBES2_COUNT = 8192;
/** Highest iteration count accepted when unsealing, bounding the work a stored row can demand. */
const MAX_PBES2_COUNT = 100_000;

const enc = new TextEncoder();

/** jose, loaded on first use: every client command imports the key store, few of them seal. */
function jose(): Promise<typeof import('jose')> {
  return import('jose');
}

/** Seals `raw` under `passphrase`; a fresh salt and content key every call. */
export async function sealPrivateKey(raw: Uint8Array, passphrase: string): Promise<string> {
  if (passphrase === '') throw new PassphraseError('refusing to seal a private key under an empty passphrase');
  const { CompactEncrypt } = await jose();
  return new CompactEncrypt(raw)
    .setProtectedHeader({ alg: KEYWRAP_ALG, enc: ENCRYPTION_ALG })
    .setKeyManagementParameters({ p2c: PBES2_COUNT })
    .encrypt(enc.encode(passphrase));
}

/**
 * Opens a sealed key. Only the algorithms above are accepted.
 * @throws PassphraseError when the passphrase is wrong (or the ciphertext was altered)
 * @throws StorageError when `jwe` is not a compact JWE of the expected kind
 */
export async function unsealPrivateKey(jwe: string, passphrase: string): Promise<Uint8Array> {
  const { compactDecrypt, errors } = await jose();
  try {
    const { plaintext } = await compactDecrypt(jwe, enc.encode(passphrase), {
      keyManagementAlgorithms: [KEYWRAP_ALG],
      contentEncryptionAlgorithms: [ENCRYPTION_ALG],
      maxPBES2Count: MAX_PBES2_COUNT,
    });
    return plaintext;
  } catch (err) {
    if (err instanceof errors.JWEDecryptionFailed) {
      throw new PassphraseError('could not unseal private key: wrong passphrase or altered ciphertext', { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new StorageError(`sealed private key is not a usable ${KEYWRAP_ALG} JWE: ${detail}`, { cause: err });
  }
}
