/**
 * Prometheus metrics with notary-server's names (spec §5.1): per `operation`
 * (UpdateTUF, GetRoleByHash, GetRoleByVersion, GetRole, GetKey, RotateKey, DeleteTUF, Changefeed)
 * - `notary_server_http_request_duration_microseconds` (summary),
 * - `notary_server_http_request_size_bytes` (summary),
 * - `notary_server_http_response_size_bytes` (summary),
 * - `notary_server_http_requests_total{code,method,operation}` (counter; method lowercased as
 *   Go's instrumentation writes it).
 *
 * Written here rather than with prom-client: its summaries (a t-digest per series) cost about
 * 25 µs per request on the read path, more than routing and storage together, and the library
 * with its dependencies costs the server several MiB. Summaries here keep exact `_sum` and
 * `_count` and estimate the 0.5/0.9/0.99 quantiles over everything observed (as prom-client's
 * did, no sliding window) from logarithmic buckets within 1% of the true value
 * (quantile-sketch.ts). The text is the exposition format prom-client wrote: the same blocks,
 * label order and content type.
 *
 * Each `ServerMetrics` holds its own series, so several apps (tests, `vouch serve`) never share
 * them.
 *
 * Not reproduced: Go reports `code="0"` for handlers that never call WriteHeader (empty 200s);
 * vouch reports 200.
 */
import { QuantileSketch } from './quantile-sketch.ts';

export interface RequestObservation {
  readonly operation: string;
  readonly method: string;
  readonly status: number;
  readonly durationMicros: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface ServerMetrics {
  observe(o: RequestObservation): void;
  /** The text exposition of everything observed so far. */
  render(): string;
  /** Content-Type of `render()`'s text. */
  readonly contentType: string;
}

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const QUANTILES = [0.5, 0.9, 0.99] as const;

/** A label value as the exposition format writes it. */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A summary with the one label `operation`. */
class OperationSummary {
  readonly #name: string;
  readonly #help: string;
  readonly #series = new Map<string, QuantileSketch>();

  constructor(name: string, help: string) {
    this.#name = name;
    this.#help = help;
  }

  observe(operation: string, value: number): void {
    let s = this.#series.get(operation);
    if (s === undefined) {
      s = new QuantileSketch();
      this.#series.set(operation, s);
    }
    s.add(value);
  }

  render(): string {
    let out = `# HELP ${this.#name} ${this.#help}\n# TYPE ${this.#name} summary\n`;
    for (const [operation, s] of this.#series) {
      const label = `operation="${labelValue(operation)}"`;
      for (const q of QUANTILES) out += `${this.#name}{quantile="${q}",${label}} ${s.quantile(q)}\n`;
      out += `${this.#name}_sum{${label}} ${s.sum}\n${this.#name}_count{${label}} ${s.count}\n`;
    }
    return out;
  }
}

/** `notary_server_http_requests_total{code,method,operation}`. */
class RequestCounter {
  static readonly NAME = 'notary_server_http_requests_total';
  /** operation → method → status → cell; a request costs three map lookups, no string. */
  readonly #tree = new Map<string, Map<string, Map<number, { n: number }>>>();
  /** Label text and cell, in first-seen order (the order prom-client wrote). */
  readonly #series: { readonly labels: string; readonly cell: { n: number } }[] = [];

  inc(status: number, method: string, operation: string): void {
    let byMethod = this.#tree.get(operation);
    if (byMethod === undefined) this.#tree.set(operation, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let cell = byStatus.get(status);
    if (cell === undefined) {
      cell = { n: 0 };
      byStatus.set(status, cell);
      // Go lowercases the method
      this.#series.push({ labels: `code="${status}",method="${labelValue(method.toLowerCase())}",operation="${labelValue(operation)}"`, cell });
    }
    cell.n++;
  }

  render(): string {
    let out = `# HELP ${RequestCounter.NAME} Total number of HTTP requests made.\n# TYPE ${RequestCounter.NAME} counter\n`;
    for (const { labels, cell } of this.#series) out += `${RequestCounter.NAME}{${labels}} ${cell.n}\n`;
    return out;
  }
}

export function createServerMetrics(): ServerMetrics {
  const duration = new OperationSummary('notary_server_http_request_duration_microseconds', 'The HTTP request latencies in microseconds.');
  const reqSize = new OperationSummary('notary_server_http_request_size_bytes', 'The HTTP request sizes in bytes.');
  const resSize = new OperationSummary('notary_server_http_response_size_bytes', 'The HTTP response sizes in bytes.');
  const total = new RequestCounter();
  return {
    contentType: PROMETHEUS_TEXT_CONTENT_TYPE,
    observe(o) {
      duration.observe(o.operation, o.durationMicros);
      reqSize.observe(o.operation, o.requestBytes);
      resSize.observe(o.operation, o.responseBytes);
      total.inc(o.status, o.method, o.operation);
    },
    render() {
      return [duration.render(), reqSize.render(), resSize.render(), total.render()].join('\n');
    },
  };
}
