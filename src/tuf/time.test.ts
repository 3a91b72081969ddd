import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeserializationError } from '../errors/index.ts';
import { DEFAULT_EXPIRY_MS, defaultExpiry, formatExpiredAt, formatGoTime, isExpiredAt, parseGoTime } from './time.ts';

test('parses RFC3339Nano with Z and keeps the text', () => {
  const t = parseGoTime('2036-11-19T03:57:11.364016461Z');
  assert.equal(t.unixMs, Date.UTC(2036, 10, 19, 3, 57, 11, 364));
  assert.equal(t.subMsNanos, 16461);
  assert.equal(t.text, '2036-11-19T03:57:11.364016461Z');
  assert.equal(t.utc, true);
});

test('parses offsets', () => {
  const t = parseGoTime('2036-11-18T23:04:14.053595817-05:00');
  assert.equal(t.unixMs, Date.UTC(2036, 10, 19, 4, 4, 14, 53));
  assert.equal(t.offsetSeconds, -5 * 3600);
  assert.equal(parseGoTime('2116-01-11T16:58:57.119711158-08:00').unixMs, Date.UTC(2116, 0, 12, 0, 58, 57, 119));
  assert.equal(parseGoTime('2020-01-01T05:30:00+05:30').unixMs, Date.UTC(2020, 0, 1));
  assert.equal(parseGoTime('0001-01-01T00:00:00Z').unixMs, -62135596800000);
});

test('more than nine fraction digits are truncated, as Go does', () => {
  assert.equal(parseGoTime('2020-01-01T00:00:00.1234567891Z').subMsNanos, 456789);
});

test('rejects non-RFC3339 times', () => {
  for (const s of ['', '2020-01-01', '2020-01-01T00:00:00', '2020-13-01T00:00:00Z', '2020-02-30T00:00:00Z', '2020-01-01T24:00:00Z',
    '2020-01-01T00:00:60Z', '2020-01-01 00:00:00Z', '2020-01-01T00:00:00.Z', '2020-01-01T00:00:00+0500', '2020-01-01t00:00:00z']) {
    assert.throws(() => parseGoTime(s), DeserializationError, s);
  }
  assert.doesNotThrow(() => parseGoTime('2024-02-29T00:00:00Z'));
});

test('formats Go RFC3339Nano in UTC: trailing zeros trimmed, no dot when zero', () => {
  assert.equal(formatGoTime(new Date(Date.UTC(2036, 10, 19, 3, 57, 11, 364))), '2036-11-19T03:57:11.364Z');
  assert.equal(formatGoTime(new Date(Date.UTC(2036, 10, 19, 3, 57, 11, 360))), '2036-11-19T03:57:11.36Z');
  assert.equal(formatGoTime(new Date(Date.UTC(2036, 10, 19, 3, 57, 11, 0))), '2036-11-19T03:57:11Z');
});

test('expiry is strict "before now" and exact with nanoseconds', () => {
  const t = parseGoTime('2020-01-01T00:00:00.0000005Z');
  assert.equal(isExpiredAt(t, new Date(Date.UTC(2020, 0, 1))), false);
  assert.equal(isExpiredAt(t, new Date(Date.UTC(2020, 0, 1, 0, 0, 0, 1))), true);
  assert.equal(isExpiredAt(parseGoTime('2020-01-01T00:00:00Z'), new Date(Date.UTC(2020, 0, 1))), false);
});

test('expired-at text uses Go\'s "Mon Jan 2 15:04:05 MST 2006" in the written zone', () => {
  assert.equal(formatExpiredAt(parseGoTime('2026-12-06T03:57:54.670776667Z')), 'Sun Dec 6 03:57:54 UTC 2026');
  assert.equal(formatExpiredAt(parseGoTime('2036-11-18T23:04:14.053595817-05:00')), 'Tue Nov 18 23:04:14 -0500 2036');
  assert.equal(formatExpiredAt(parseGoTime('2020-01-01T05:30:00+05:30')), 'Wed Jan 1 05:30:00 +0530 2020');
});

test('default expiries: root 10y, targets/delegations/snapshot 3y, timestamp 14d', () => {
  const now = new Date(Date.UTC(2026, 0, 1));
  const day = 86_400_000;
  assert.equal(defaultExpiry('root', now).getTime() - now.getTime(), 3650 * day);
  assert.equal(defaultExpiry('targets', now).getTime() - now.getTime(), 1095 * day);
  assert.equal(defaultExpiry('targets/releases', now).getTime() - now.getTime(), 1095 * day);
  assert.equal(defaultExpiry('snapshot', now).getTime() - now.getTime(), 1095 * day);
  assert.equal(defaultExpiry('timestamp', now).getTime() - now.getTime(), 14 * day);
  assert.equal(DEFAULT_EXPIRY_MS.timestamp, 14 * day);
});
