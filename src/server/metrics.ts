/**
 * Prometheus metrics with notary-server's names (spec §5.1): per `operation`
 * (UpdateTUF, GetRoleByHash, GetRoleByVersion, GetRole, GetKey, RotateKey, DeleteTUF, Changefeed)
 * - `notary_server_http_request_duration_microseconds` (summary),
 * - `notary_server_http_request_size_bytes` (summary),
 * - `notary_server_http_response_size_bytes` (summary),
 * - `notary_server_http_requests_total{code,method,operation}` (counter; method lowercased as
 *   Go's instrumentation writes it).
 *
 * Each `ServerMetrics` owns a prom-client Registry unless given one, so several apps (tests,
 * `vouch serve`) never collide on the global registry.
 *
 * Not reproduced: Go reports `code="0"` for handlers that never call WriteHeader (empty 200s);
 * vouch reports 200.
 */
import { Counter, Registry, Summary } from 'prom-client';

export interface RequestObservation {
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly durationMicros: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface ServerMetrics {
  readonly registry: Registry;
  observe(o: RequestObservation): void;
}

const PERCENTILES = [0.5, 0.9, 0.99];

function summary(registry: Registry, name: string, help: string): Summary<'operation'> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Summary<'operation'>;
  return new Summary({ name, help, labelNames: ['operation'], percentiles: PERCENTILES, registers: [registry] });
}

export function createServerMetrics(registry: Registry = new Registry()): ServerMetrics {
  const duration = summary(registry, 'notary_server_http_request_duration_microseconds', 'The HTTP request latencies in microseconds.');
  const reqSize = summary(registry, 'notary_server_http_request_size_bytes', 'The HTTP request sizes in bytes.');
  const resSize = summary(registry, 'notary_server_http_response_size_bytes', 'The HTTP response sizes in bytes.');
  const totalName = 'notary_server_http_requests_total';
  const total =
    (registry.getSingleMetric(totalName) as Counter<'code' | 'method' | 'operation'> | undefined) ??
    new Counter({ name: totalName, help: 'Total number of HTTP requests made.', labelNames: ['code', 'method', 'operation'], registers: [registry] });
  return {
    registry,
    observe(o) {
      duration.observe({ operation: o.operation }, o.durationMicros);
      reqSize.observe({ operation: o.operation }, o.requestBytes);
      resSize.observe({ operation: o.operation }, o.responseBytes);
      total.inc({ code: String(o.status), method: o.method.toLowerCase(), operation: o.operation });
    },
  };
}
