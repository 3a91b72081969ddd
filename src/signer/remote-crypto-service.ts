/**
 * RemoteCryptoService: the trust server's CryptoService over notary-signer's gRPC API
 * (`trust_service.type: remote`, spec §5.5, §8), dialled as notary-server dials it: TLS whose
 * only trusted roots are the configured CA file (none given: the system roots), an optional
 * client certificate for mutual TLS, and the signer's certificate checked against `hostname`.
 *
 * Mapping onto CryptoService:
 * - `create` → CreateKey (the signer decides whether to reuse a pending key, §6.5);
 * - `getKey` → GetKeyInfo; NOT_FOUND means "not held" (null);
 * - `sign` → Sign with the canonical `signed` bytes; NOT_FOUND → KeyNotFoundError;
 * - `unusedKeys` → always empty: the API has no such call; CreateKey does the reuse instead.
 * Every other failure (signer down, deadline, INTERNAL…) throws RemoteSignerError, so the
 * caller fails the request rather than mistaking an outage for a missing key.
 *
 * Deliberate difference from notary-server (spec §6.2 step 5): there a NOT_FOUND during
 * signing surfaces as `ErrValidation "rpc error: code = NotFound …"`. Here it means "the key is
 * not held", so a publish with a missing snapshot/timestamp key fails with the same
 * ErrBadHierarchy / ErrBadRoot text as with the local signer, whichever signer runs.
 *
 * Calls carry a deadline (notary's have none) and reconnection backoff is capped, so a
 * restarted signer is used again within seconds. Safe for concurrent use (one HTTP/2 channel).
 *
 * @example
 *   const crypto = new RemoteCryptoService({ hostname: 'notary-signer', port: 7899, caCert, clientCert, clientKey });
 *   const key = await crypto.create('timestamp', 'example.com/app', 'ecdsa');
 */
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { CryptoService, SignatureEntry, TufKey } from '../crypto/index.ts';
import { DownloadError, KeyNotFoundError } from '../errors/index.ts';
import { ServingStatus } from './proto.ts';
import { CreateKey, GetKeyInfo, HEALTH_KEY_MANAGEMENT, HEALTH_SIGNER, HealthCheck, Sign, toBuffer, type UnaryMethod } from './services.ts';

export interface RemoteCryptoServiceOptions {
  readonly hostname: string;
  readonly port: number;
  /** PEM CA certificates, the only roots trusted for the signer; null: the system roots. */
  readonly caCert: Uint8Array | null;
  /** PEM client certificate and key for mutual TLS (both or neither). */
  readonly clientCert?: Uint8Array | null;
  readonly clientKey?: Uint8Array | null;
  /** Deadline of each call in milliseconds; default 30 s. */
  readonly callTimeoutMs?: number;
  /** Longest wait between reconnection attempts; default 2 s (grpc's default is 120 s). */
  readonly maxReconnectBackoffMs?: number;
}

/** Go's names of the gRPC codes, for notary-shaped messages ("rpc error: code = NotFound desc = …"). */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound',
  6: 'AlreadyExists', 7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted',
  11: 'OutOfRange', 12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
};

/** A call to the signer failed for a reason other than "no such key". */
export class RemoteSignerError extends DownloadError {
  /** The gRPC status code. */
  readonly grpcCode: number;
  readonly details: string;
  constructor(grpcCode: number, details: string, options?: ErrorOptions) {
    super(`rpc error: code = ${GO_CODE_NAMES[grpcCode] ?? `Code(${grpcCode})`} desc = ${details}`, undefined, options);
    this.grpcCode = grpcCode;
    this.details = details;
  }
}

/** The signature method a key type signs with (notary's RemotePrivateKey.SignatureAlgorithm). */
function methodFor(keytype: string, reported: string): string {
  switch (keytype) {
    case 'ecdsa':
    case 'ecdsa-x509':
      return 'ecdsa';
    case 'rsa':
    case 'rsa-x509':
      return 'rsapss';
    case 'ed25519':
      return 'eddsa';
    default:
      return reported;
  }
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

export class RemoteCryptoService implements CryptoService {
  readonly #client: Client;
  readonly #timeoutMs: number;

  /** @throws Error when the TLS material is unusable */
  constructor(options: RemoteCryptoServiceOptions) {
    const cert = options.clientCert ?? null;
    const key = options.clientKey ?? null;
    if ((cert === null) !== (key === null)) throw new TypeError('either pass both client key and cert, or neither');
    const creds = credentials.createSsl(
      options.caCert === null ? null : Buffer.from(options.caCert),
      key === null ? null : Buffer.from(key),
      cert === null ? null : Buffer.from(cert),
    );
    const host = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;
    const backoff = options.maxReconnectBackoffMs ?? 2000;
    this.#client = new Client(`${host}:${options.port}`, creds, {
      'grpc.initial_reconnect_backoff_ms': Math.min(backoff, 1000),
      'grpc.max_reconnect_backoff_ms': backoff,
    });
    this.#timeoutMs = options.callTimeoutMs ?? 30_000;
  }

  /** @throws RemoteSignerError (UNKNOWN for an algorithm the signer does not create) */
  async create(role: string, gun: string, algorithm: string): Promise<TufKey> {
    const res = await this.#call(CreateKey, { algorithm, gun, role });
    return { keytype: res.keyInfo.algorithm, public: res.publicKey };
  }

  /** @throws RemoteSignerError for anything but NOT_FOUND */
  async getKey(keyId: string): Promise<{ key: TufKey; role: string } | null> {
    try {
      const res = await this.#call(GetKeyInfo, { id: keyId });
      return { key: { keytype: res.keyInfo.algorithm, public: res.publicKey }, role: res.role };
    } catch (err) {
      if (err instanceof RemoteSignerError && err.grpcCode === status.NOT_FOUND) return null;
      throw err;
    }
  }

  /**
   * @throws KeyNotFoundError when the signer does not hold the key
   * @throws RemoteSignerError for any other failure
   */
  async sign(keyId: string, msg: Uint8Array): Promise<SignatureEntry> {
    try {
      const res = await this.#call(Sign, { keyId, content: msg });
      return { keyid: keyId, method: methodFor(res.keyInfo.algorithm, res.algorithm), sig: res.content };
    } catch (err) {
      if (err instanceof RemoteSignerError && err.grpcCode === status.NOT_FOUND) {
        throw new KeyNotFoundError(`the signer does not hold key ${keyId}: ${err.details}`, { cause: err });
      }
      throw err;
    }
  }

  /** Always empty: pending keys are reused by the signer's CreateKey (SQL stores), not listed. */
  async unusedKeys(): Promise<TufKey[]> {
    return [];
  }

  /**
   * Both health services answer SERVING (notary-server's "Trust operational" check).
   * @throws RemoteSignerError when the signer is unreachable or not serving
   */
  async checkHealth(timeoutMs = 10_000): Promise<void> {
    for (const service of [HEALTH_KEY_MANAGEMENT, HEALTH_SIGNER]) {
      const res = await this.#call(HealthCheck, { service }, timeoutMs);
      if (res.status !== ServingStatus.Serving) {
        throw new RemoteSignerError(status.UNAVAILABLE, `Got the serving status of ${service}: ${res.status}, want SERVING`);
      }
    }
  }

  close(): void {
    this.#client.close();
  }

  #call<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, timeoutMs = this.#timeoutMs): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#client.makeUnaryRequest<Req, Res>(
        method.path,
        (v) => toBuffer(method.encodeRequest(v)),
        (b) => method.decodeResponse(b),
        req,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err !== null) {
            reject(isServiceError(err) ? new RemoteSignerError(err.code, err.details, { cause: err }) : err);
          } else if (res === undefined) {
            reject(new RemoteSignerError(status.INTERNAL, `empty response from ${method.path}`));
          } else {
            resolve(res);
          }
        },
      );
    });
  }
}
