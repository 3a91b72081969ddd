/**
 * The gRPC server of `vouch signer`: notary-signer's KeyManagement and Signer services plus
 * `grpc.health.v1.Health/Check`, over TLS (mutual TLS when a client CA is given), spec §8.1–8.2.
 *
 * Status codes, as notary-signer answers (signer/api/rpc_api.go):
 * | call | outcome | code, message |
 * |---|---|---|
 * | CreateKey | algorithm not ecdsa/ed25519 | UNKNOWN "algorithm X not supported for create key" |
 * | CreateKey | generating or storing fails (e.g. no passphrase for the default alias) | INTERNAL "Key creation failed" |
 * | DeleteKey | unknown key | OK (deleting is idempotent) |
 * | DeleteKey | store fails | INTERNAL "Key deletion for KeyID X failed" |
 * | GetKeyInfo | unknown, or cannot be opened (wrong/missing passphrase, bad row) | NOT_FOUND "key X not found" |
 * | Sign | unknown, or cannot be opened | NOT_FOUND "signing key not found: X" |
 * | Sign | signing fails | INTERNAL "Signing failed for KeyID X on hash …" |
 * | Health/Check | "" or one of the two service names | OK, SERVING |
 * | Health/Check | any other service | NOT_FOUND "unknown service" |
 * A request that is not a valid protobuf message gets INTERNAL from grpc-js (grpc-go does the
 * same). Unlike notary-signer, a Sign request without a keyID is NOT_FOUND instead of a crash.
 *
 * Not here: reading the config or choosing the key store (src/bin/signer.ts).
 *
 * @example
 *   const running = await startSignerServer({ keys, tls: { cert, key, clientCa }, host: '127.0.0.1', port: 7899 });
 *   await running.close();
 */
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { tufKeyId } from '../crypto/index.ts';
import { KeyNotFoundError } from '../errors/index.ts';
import type { SignerKeyService } from './key-service.ts';
import { isSignerAlgorithm, SigningFailedError } from './key-service.ts';
import type * as pb from './proto.ts';
import { ServingStatus } from './proto.ts';
import {
  HEALTH_KEY_MANAGEMENT,
  HEALTH_SERVICE,
  HEALTH_SIGNER,
  KEY_MANAGEMENT_SERVICE,
  SIGNER_SERVICE,
} from './services.ts';

/** The slice of a pino logger the server writes to. */
export interface SignerLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface SignerTlsMaterial {
  /** PEM certificate chain of the signer. */
  readonly cert: Uint8Array;
  /** PEM private key of the signer. */
  readonly key: Uint8Array;
  /** PEM CA certificates clients must chain to; null: no client certificate asked for. */
  readonly clientCa: Uint8Array | null;
}

export interface SignerServerOptions {
  readonly keys: SignerKeyService;
  readonly tls: SignerTlsMaterial;
  /** Interface to listen on; "" means all interfaces (Go's `:port`). */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logger?: SignerLogger;
}

export interface RunningSigner {
  /** The port actually bound. */
  readonly port: number;
  /** `host:port` as bound. */
  readonly address: string;
  /** Stop accepting calls, let running calls finish (at most `graceMs`, default 5 s), then close. */
  close(graceMs?: number): Promise<void>;
}

const silent: SignerLogger = { info: () => undefined, error: () => undefined, debug: () => undefined };

type Reply<T> = sendUnaryData<T>;

function fail<T>(cb: Reply<T>, code: status, details: string): void {
  cb({ code, details });
}

function keyInfo(keyId: string, algorithm: string): pb.KeyInfo {
  return { keyId, algorithm };
}

/** The handler tables of the three services over one key service. */
export function signerHandlers(keys: SignerKeyService, logger: SignerLogger = silent): {
  keyManagement: UntypedServiceImplementation;
  signer: UntypedServiceImplementation;
  health: UntypedServiceImplementation;
} {
  const createKey = (call: ServerUnaryCall<pb.CreateKeyRequest, pb.PublicKeyMessage>, cb: Reply<pb.PublicKeyMessage>): void => {
    const { algorithm, gun, role } = call.request;
    if (!isSignerAlgorithm(algorithm)) {
      logger.error({ algorithm }, 'CreateKey: unsupported algorithm');
      // notary-signer returns a plain error here, which grpc-go sends as UNKNOWN
      fail(cb, status.UNKNOWN, `algorithm ${algorithm} not supported for create key`);
      return;
    }
    keys.createKey(role, gun, algorithm).then(
      (key) => {
        const keyId = tufKeyId(key);
        logger.info({ keyId, gun, role, algorithm }, 'CreateKey: created key');
        cb(null, { keyInfo: keyInfo(keyId, key.keytype), publicKey: key.public });
      },
      (err: unknown) => {
        logger.error({ err, gun, role, algorithm }, 'CreateKey: failed to create key');
        fail(cb, status.INTERNAL, 'Key creation failed');
      },
    );
  };

  const deleteKey = (call: ServerUnaryCall<pb.KeyIdMessage, Record<string, never>>, cb: Reply<Record<string, never>>): void => {
    const { id } = call.request;
    keys.deleteKey(id).then(
      () => {
        logger.info({ keyId: id }, 'DeleteKey: deleted key');
        cb(null, {});
      },
      (err: unknown) => {
        logger.error({ err, keyId: id }, 'DeleteKey: failed');
        fail(cb, status.INTERNAL, `Key deletion for KeyID ${id} failed`);
      },
    );
  };

  const getKeyInfo = (call: ServerUnaryCall<pb.KeyIdMessage, pb.GetKeyInfoResponse>, cb: Reply<pb.GetKeyInfoResponse>): void => {
    const { id } = call.request;
    keys.keyInfo(id).then(
      (held) => {
        logger.debug({ keyId: id }, 'GetKeyInfo: returning public key');
        cb(null, { keyInfo: keyInfo(id, held.key.keytype), publicKey: held.key.public, role: held.role });
      },
      (err: unknown) => {
        logger.error({ err: err instanceof KeyNotFoundError ? undefined : err, keyId: id }, 'GetKeyInfo: key not found');
        fail(cb, status.NOT_FOUND, `key ${id} not found`);
      },
    );
  };

  const sign = (call: ServerUnaryCall<pb.SignatureRequest, pb.SignatureMessage>, cb: Reply<pb.SignatureMessage>): void => {
    const { keyId, content } = call.request;
    keys.sign(keyId, content).then(
      (r) => {
        logger.info({ keyId }, 'Sign: signed');
        cb(null, { keyInfo: keyInfo(keyId, r.key.keytype), algorithm: r.method, content: r.sig });
      },
      (err: unknown) => {
        if (err instanceof SigningFailedError) {
          logger.error({ err, keyId }, 'Sign: signing failed');
          fail(cb, status.INTERNAL, `Signing failed for KeyID ${keyId} on hash ${Buffer.from(content).toString('utf8')}`);
          return;
        }
        logger.error({ err: err instanceof KeyNotFoundError ? undefined : err, keyId }, 'Sign: key not found');
        fail(cb, status.NOT_FOUND, `signing key not found: ${keyId}`);
      },
    );
  };

  const check = (call: ServerUnaryCall<pb.HealthCheckRequest, pb.HealthCheckResponse>, cb: Reply<pb.HealthCheckResponse>): void => {
    const { service } = call.request;
    if (service === '' || service === HEALTH_KEY_MANAGEMENT || service === HEALTH_SIGNER) {
      cb(null, { status: ServingStatus.Serving });
    } else {
      fail(cb, status.NOT_FOUND, 'unknown service');
    }
  };

  return {
    keyManagement: { CreateKey: createKey, DeleteKey: deleteKey, GetKeyInfo: getKeyInfo } as UntypedServiceImplementation,
    signer: { Sign: sign } as UntypedServiceImplementation,
    health: { Check: check } as UntypedServiceImplementation,
  };
}

/**
 * Bind and start the signer.
 * @throws Error when the address cannot be bound or the TLS material is unusable
 */
export async function startSignerServer(opts: SignerServerOptions): Promise<RunningSigner> {
  const logger = opts.logger ?? silent;
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  const handlers = signerHandlers(opts.keys, logger);
  server.addService(KEY_MANAGEMENT_SERVICE, handlers.keyManagement);
  server.addService(SIGNER_SERVICE, handlers.signer);
  server.addService(HEALTH_SERVICE, handlers.health);
  const creds = ServerCredentials.createSsl(
    opts.tls.clientCa === null ? null : Buffer.from(opts.tls.clientCa),
    [{ cert_chain: Buffer.from(opts.tls.cert), private_key: Buffer.from(opts.tls.key) }],
    opts.tls.clientCa !== null,
  );
  const host = opts.host === '' ? '0.0.0.0' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${opts.port}`, creds, (err, bound) => (err === null ? resolve(bound) : reject(err)));
  });
  return {
    port,
    address: `${host}:${port}`,
    close(graceMs = 5000) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
