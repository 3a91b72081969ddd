/**
 * The server's metrics: the text prom-client wrote for the same observations (blocks, label
 * order, content type), exact sums and counts, quantiles within 1%.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServerMetrics, PROMETHEUS_TEXT_CONTENT_TYPE } from './metrics.ts';
import { QuantileSketch } from './quantile-sketch.ts';

const D = 'notary_server_http_request_duration_microseconds';
const Q = 'notary_server_http_request_size_bytes';
const R = 'notary_server_http_response_size_bytes';
const T = 'notary_server_http_requests_total';

test('before any request: the four metrics, HELP and TYPE only, as prom-client wrote them', () => {
  const m = createServerMetrics();
  assert.equal(m.contentType, PROMETHEUS_TEXT_CONTENT_TYPE);
  assert.equal(
    m.render(),
    `# HELP ${D} The HTTP request latencies in microseconds.\n# TYPE ${D} summary\n\n` +
      `# HELP ${Q} The HTTP request sizes in bytes.\n# TYPE ${Q} summary\n\n` +
      `# HELP ${R} The HTTP response sizes in bytes.\n# TYPE ${R} summary\n\n` +
      `# HELP ${T} Total number of HTTP requests made.\n# TYPE ${T} counter\n`,
  );
});

test('series per operation in first-seen order; the counter by code, lowercased method and operation', () => {
  const m = createServerMetrics();
  m.observe({ operation: 'GetRole', method: 'GET', status: 200, durationMicros: 100, requestBytes: 60, responseBytes: 55 });
  m.observe({ operation: 'UpdateTUF', method: 'POST', status: 200, durationMicros: 5000.5, requestBytes: 3000, responseBytes: 0 });
  m.observe({ operation: 'GetRole', method: 'GET', status: 404, durationMicros: 100, requestBytes: 61, responseBytes: 104 });
  const text = m.render();
  const block = (name: string): string[] => text.split('\n\n').find((b) => b.includes(`# TYPE ${name} `))!.trim().split('\n').slice(2);
  assert.deepEqual(block(D), [
    `${D}{quantile="0.5",operation="GetRole"} 100`,
    `${D}{quantile="0.9",operation="GetRole"} 100`,
    `${D}{quantile="0.99",operation="GetRole"} 100`,
    `${D}_sum{operation="GetRole"} 200`,
    `${D}_count{operation="GetRole"} 2`,
    `${D}{quantile="0.5",operation="UpdateTUF"} 5000.5`,
    `${D}{quantile="0.9",operation="UpdateTUF"} 5000.5`,
    `${D}{quantile="0.99",operation="UpdateTUF"} 5000.5`,
    `${D}_sum{operation="UpdateTUF"} 5000.5`,
    `${D}_count{operation="UpdateTUF"} 1`,
  ]);
  assert.ok(block(R).includes(`${R}_sum{operation="GetRole"} 159`));
  assert.ok(block(R).includes(`${R}{quantile="0.5",operation="UpdateTUF"} 0`));
  assert.deepEqual(block(T), [
    `${T}{code="200",method="get",operation="GetRole"} 1`,
    `${T}{code="200",method="post",operation="UpdateTUF"} 1`,
    `${T}{code="404",method="get",operation="GetRole"} 1`,
  ]);
  assert.ok(text.endsWith(`operation="GetRole"} 1\n`));
});

test('quantiles are within 1% of the value at their rank, and within the observed range', () => {
  const s = new QuantileSketch();
  const values: number[] = [];
  let x = 12345;
  for (let i = 0; i < 10_000; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const v = 1 + (x % 1_000_000) / 7; // 1 … ~142858, spread over five decades
    values.push(v);
    s.add(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0, 0.5, 0.9, 0.99, 1]) {
    const exact = values[Math.floor(q * (values.length - 1))]!;
    const got = s.quantile(q);
    assert.ok(Math.abs(got - exact) <= exact * 0.0101, `q=${q}: ${got} vs ${exact}`);
  }
  assert.equal(s.count, 10_000);
  assert.equal(s.quantile(1), values.at(-1));
  assert.equal(s.quantile(0), values[0]);
});

test('zeros count apart; an empty sketch has no quantile', () => {
  const s = new QuantileSketch();
  assert.ok(Number.isNaN(s.quantile(0.5)));
  for (let i = 0; i < 9; i++) s.add(0);
  s.add(1000);
  assert.equal(s.quantile(0.5), 0);
  assert.equal(s.quantile(0.8), 0);
  assert.ok(Math.abs(s.quantile(1) - 1000) <= 10);
  assert.equal(s.sum, 1000);
});
