/**
 * Public surface of src/crypto (spec §2, §3): key IDs, key JSON, signature verification,
 * signing with notary's internal private-key forms, and the x509 handling of root keys.
 * Skeleton: signatures are final, bodies are being filled in.
 */
import type { PrivateKey, TufKey } from './types.ts';

export type { KeyType, SignatureMethod, TufKey, PrivateKey, SignatureEntry, CryptoService } from './types.ts';

export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly commonName: string;
  readonly isCA: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: string;
  readonly publicKey: TufKey;
  readonly extKeyUsage: string[] | null;
}

const todo = (name: string): never => {
  throw new Error(`${name}: not implemented yet`);
};

export function tufKeyId(_key: TufKey): string { return todo('tufKeyId'); }
export function canonicalKeyId(_key: TufKey): string { return todo('canonicalKeyId'); }
export function keyToJSON(_key: TufKey): { keytype: string; keyval: { private: null; public: string } } { return todo('keyToJSON'); }
export function keyFromJSON(_v: unknown): TufKey { return todo('keyFromJSON'); }
export function verifySignature(_key: TufKey, _method: string, _msg: Uint8Array, _sig: Uint8Array): boolean { return todo('verifySignature'); }
export function generatePrivateKey(_alg: 'ecdsa' | 'ed25519'): PrivateKey { return todo('generatePrivateKey'); }
export function privateKeyFromRaw(_keytype: 'ecdsa' | 'rsa' | 'ed25519', _raw: Uint8Array): PrivateKey { return todo('privateKeyFromRaw'); }
export function signMessage(_key: PrivateKey, _msg: Uint8Array): { method: string; sig: Uint8Array } { return todo('signMessage'); }
export function generateRootCertificate(_key: PrivateKey, _gun: string, _now: Date): string { return todo('generateRootCertificate'); }
export function parseCertificateChain(_pem: string): ParsedCertificate[] { return todo('parseCertificateChain'); }
export function checkCertificateValidity(_cert: ParsedCertificate, _opts: { now?: Date }): void { return todo('checkCertificateValidity'); }
export function certificateToTufKey(_chainPem: string): TufKey { return todo('certificateToTufKey'); }
export function verifyChainToRoots(_leaf: ParsedCertificate, _intermediates: ParsedCertificate[], _roots: ParsedCertificate[], _now: Date): boolean { return todo('verifyChainToRoots'); }
