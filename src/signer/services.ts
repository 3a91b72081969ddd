/**
 * The gRPC methods of notary-signer (spec §8.1) as data: path plus the codecs of proto.ts,
 * shared by the server (signer-server.ts) and the client (remote-crypto-service.ts), and the
 * grpc-js service definitions built from them.
 *
 * Paths: `/proto.KeyManagement/{CreateKey,DeleteKey,GetKeyInfo}`, `/proto.Signer/Sign`,
 * `/grpc.health.v1.Health/Check`. Health service names are notary's constants.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import * as pb from './proto.ts';

export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly encodeRequest: (m: Req) => Uint8Array;
  readonly decodeRequest: (b: Uint8Array) => Req;
  readonly encodeResponse: (m: Res) => Uint8Array;
  readonly decodeResponse: (b: Uint8Array) => Res;
}

type Void = Record<string, never>;

export const CreateKey: UnaryMethod<pb.CreateKeyRequest, pb.PublicKeyMessage> = {
  path: '/proto.KeyManagement/CreateKey',
  encodeRequest: pb.encodeCreateKeyRequest,
  decodeRequest: pb.decodeCreateKeyRequest,
  encodeResponse: pb.encodePublicKey,
  decodeResponse: pb.decodePublicKey,
};
export const DeleteKey: UnaryMethod<pb.KeyIdMessage, Void> = {
  path: '/proto.KeyManagement/DeleteKey',
  encodeRequest: pb.encodeKeyId,
  decodeRequest: pb.decodeKeyId,
  encodeResponse: pb.encodeVoid,
  decodeResponse: pb.decodeVoid,
};
export const GetKeyInfo: UnaryMethod<pb.KeyIdMessage, pb.GetKeyInfoResponse> = {
  path: '/proto.KeyManagement/GetKeyInfo',
  encodeRequest: pb.encodeKeyId,
  decodeRequest: pb.decodeKeyId,
  encodeResponse: pb.encodeGetKeyInfoResponse,
  decodeResponse: pb.decodeGetKeyInfoResponse,
};
export const Sign: UnaryMethod<pb.SignatureRequest, pb.SignatureMessage> = {
  path: '/proto.Signer/Sign',
  encodeRequest: pb.encodeSignatureRequest,
  decodeRequest: pb.decodeSignatureRequest,
  encodeResponse: pb.encodeSignature,
  decodeResponse: pb.decodeSignature,
};
export const HealthCheck: UnaryMethod<pb.HealthCheckRequest, pb.HealthCheckResponse> = {
  path: '/grpc.health.v1.Health/Check',
  encodeRequest: pb.encodeHealthCheckRequest,
  decodeRequest: pb.decodeHealthCheckRequest,
  encodeResponse: pb.encodeHealthCheckResponse,
  decodeResponse: pb.decodeHealthCheckResponse,
};

/** notary's health service names (`notary.HealthCheckKeyManagement`, `…Signer`, `…Overall`). */
export const HEALTH_KEY_MANAGEMENT = 'grpc.health.v1.Health.KeyManagement';
export const HEALTH_SIGNER = 'grpc.health.v1.Health.Signer';
export const HEALTH_OVERALL = 'grpc.health.v1.Health.Overall';

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function methodDefinition<Req, Res>(name: string, m: UnaryMethod<Req, Res>): MethodDefinition<Req, Res> {
  return {
    path: m.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: Req) => toBuffer(m.encodeRequest(v)),
    requestDeserialize: (b: Buffer) => m.decodeRequest(b),
    responseSerialize: (v: Res) => toBuffer(m.encodeResponse(v)),
    responseDeserialize: (b: Buffer) => m.decodeResponse(b),
    originalName: name,
  };
}

/** grpc-js service definitions, keyed by handler name. */
export const KEY_MANAGEMENT_SERVICE: ServiceDefinition = {
  CreateKey: methodDefinition('CreateKey', CreateKey),
  DeleteKey: methodDefinition('DeleteKey', DeleteKey),
  GetKeyInfo: methodDefinition('GetKeyInfo', GetKeyInfo),
};
export const SIGNER_SERVICE: ServiceDefinition = { Sign: methodDefinition('Sign', Sign) };
export const HEALTH_SERVICE: ServiceDefinition = { Check: methodDefinition('Check', HealthCheck) };

export { toBuffer };
