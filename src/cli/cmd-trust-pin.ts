/**
 * `vouch trust pin GUN KEYID` — what notary never had: write a root key pin for a GUN into the
 * client config (`trust_pinning.certs[GUN]`, spec §9.5), so the next first contact with that GUN
 * (a fresh trust dir, a new CI machine) accepts only a root signed by that key, and refuses any
 * other (src/client's updater applies the pin while bootstrapping trust).
 *
 * KEYID is the TUF key ID of a root certificate as root.json lists it — what the first-contact
 * report prints. When the GUN's root is cached, the ID is checked against it: the canonical ID
 * `key list` shows for the same key is translated to the TUF ID (pinning the canonical one would
 * never match, spec §13.17), and an ID that is not one of the cached root's keys draws a warning.
 */
import { resolve } from 'node:path';
import { describeRootKeys, FileMetadataCache } from '../client/index.ts';
import { canonicalKeyId } from '../crypto/index.ts';
import { Envelope, Root } from '../tuf/index.ts';
import { UsageError, type Invocation } from './command.ts';
import { addCertPin } from './config-pin.ts';
import { Session } from './session.ts';

/** The cached root of `gun`, or null when none is cached or it does not parse. */
async function cachedRoot(trustDir: string, gun: string): Promise<Root | null> {
  try {
    const bytes = await new FileMetadataCache(trustDir, gun).get('root');
    if (bytes === null) return null;
    return Root.fromSigned(Envelope.parse(bytes, 'root').signed);
  } catch {
    return null;
  }
}

export async function trustPin(inv: Invocation): Promise<void> {
  if (inv.args.length !== 2) {
    inv.usage();
    throw new UsageError('Must specify a GUN and the root key ID to pin');
  }
  const [gun, given] = inv.args as [string, string];
  let keyId = given.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(keyId)) throw new Error(`invalid key ID provided: ${given}`);
  const session = await Session.open(inv, { allowMissingConfig: true });
  const root = await cachedRoot(session.config.trustDir, gun);
  if (root !== null) {
    const rootIds = root.roles.get('root')?.keyids ?? [];
    if (!rootIds.includes(keyId)) {
      const byCanonical = rootIds.find((id) => {
        const key = root.keys.get(id);
        try {
          return key !== undefined && canonicalKeyId(key) === keyId;
        } catch {
          return false;
        }
      });
      if (byCanonical !== undefined) {
        inv.io.stderr.write(`${keyId} is the canonical ID of root key ${byCanonical}; pins name root keys by their TUF key ID, pinning ${byCanonical}.\n`);
        keyId = byCanonical;
      } else {
        const known = describeRootKeys(root).map((k) => k.keyId);
        session.log.warn(`${keyId} is not a root key of the cached root of ${gun} (root keys: ${known.join(', ') || 'none'}); pinning it anyway`);
      }
    }
  }
  const file = resolve(inv.io.cwd, session.config.configFile);
  const r = await addCertPin(file, gun, keyId);
  if (r.alreadyPinned) inv.out(`Root key ${keyId} was already pinned for ${gun} in ${file}\n`);
  else inv.out(`Pinned root key ${keyId} for ${gun} in ${file}${r.created ? ' (created)' : ''}\n`);
  inv.out(`From now on a first contact with ${gun} trusts only a root signed by: ${r.keyIds.join(', ')}\n`);
}
