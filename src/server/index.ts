/**
 * Public surface of src/server: the trust server (notary-server's HTTP API, spec §5).
 * Routes → thin handlers → `TrustService`. Test double: `./fake-trust-service.ts`.
 */
export type { TrustService, UploadPart } from './trust-service.ts';
export { buildTrustApp, trustRoutesPlugin, toTrustRequest, sendTrustResponse } from './app.ts';
export type { BuildTrustAppOptions, TrustRoutesPluginOptions } from './app.ts';
export { createTrustDispatcher, dispatcherOptionsFromConfig } from './dispatch.ts';
export { createTrustListener, writeTrustResponse, answerClientError } from './listener.ts';
export type { TrustListenerOptions, TrustRequestListener } from './listener.ts';
export type { TrustDispatcher, TrustDispatcherOptions, DispatchLogger } from './dispatch.ts';
export type { TrustRequest, TrustResponse } from './handlers.ts';
export { DEFAULT_CHANGEFEED_PAGE } from './handlers.ts';
export { API_ERROR_CODES, ApiError, toApiError, serializeApiError } from './errors.ts';
export type { ApiErrorCode, SerializedError } from './errors.ts';
export { createServerMetrics, PROMETHEUS_TEXT_CONTENT_TYPE } from './metrics.ts';
export type { ServerMetrics, RequestObservation } from './metrics.ts';
export { startTrustServer } from './serve.ts';
export type { TrustServiceFactory, TrustServiceHandle, RunningTrustServer } from './serve.ts';
