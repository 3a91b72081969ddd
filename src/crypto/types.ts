/**
 * Key and signing contracts shared by the TUF core, the trust server and (later) the client.
 * Spec §2. Implementations live beside this file; this file holds types only.
 */

/** The key types notary knows (§2.1). Anything else parses but cannot verify. */
export type KeyType = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';

/** Signature methods (§2.3). `rsapkcs1v15` and `pycrypto-pkcs#1 pss` are verify-only. */
export type SignatureMethod = 'ecdsa' | 'rsapss' | 'eddsa' | 'rsapkcs1v15' | 'pycrypto-pkcs#1 pss';

/** A public "TUF key": `{"keytype":T,"keyval":{"private":null,"public":base64(public)}}`. */
export interface TufKey {
  /** Kept as a string: unknown types are representable (they just never verify). */
  readonly keytype: string;
  /** The decoded bytes of `keyval.public` (DER SPKI, PEM chain text, or raw ed25519). */
  readonly public: Uint8Array;
}

/** A private key in notary's internal form (§2.4) with its public TUF key. */
export interface PrivateKey {
  readonly keytype: 'ecdsa' | 'rsa' | 'ed25519';
  /** The matching public key (keytype ecdsa/rsa/ed25519, never *-x509). */
  readonly publicKey: TufKey;
  /** SEC1 DER (ecdsa), PKCS#1 DER (rsa) or the 96 bytes pub‖seed‖pub (ed25519). */
  readonly raw: Uint8Array;
}

/** One signature as it appears in an envelope. */
export interface SignatureEntry {
  /** TUF key id (hex). */
  readonly keyid: string;
  readonly method: string;
  readonly sig: Uint8Array;
}

/**
 * The server-side holder of server-managed keys (notary's signed.CryptoService): the in-process
 * keystore for `trust_service.type: local`, or the remote signer over gRPC.
 */
export interface CryptoService {
  /** Create and persist a new key for gun+role; `algorithm` is `ed25519` or `ecdsa`. */
  create(role: string, gun: string, algorithm: string): Promise<TufKey>;
  /** Public key and role of a held key, or null when not held. */
  getKey(keyId: string): Promise<{ key: TufKey; role: string } | null>;
  /**
   * Sign `msg` (the canonical `signed` bytes) with a held key; `keyId` may be the TUF or the
   * canonical id. Marks the key used.
   * @throws KeyNotFoundError when the key is not held
   */
  sign(keyId: string, msg: Uint8Array): Promise<SignatureEntry>;
  /**
   * Held keys for gun+role that have never signed (notary's "pending" keys), oldest first.
   * Used by GET …/{role}.key before a root lists any key.
   */
  unusedKeys(role: string, gun: string, algorithm: string): Promise<TufKey[]>;
}
