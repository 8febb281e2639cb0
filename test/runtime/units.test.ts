import { expect } from 'chai';
import fc from 'fast-check';
import { formatBytes, formatDuration, parseBytes, parseDuration } from '../../src/runtime/units.js';

describe('runtime/units: the one syntax of durations and sizes', () => {
  it('reads durations, compound ones too, and refuses bare numbers and unknown units', () => {
    expect(['500ms', '90s', '1m30s', '15m', '1.5h', '30d', '1h0m5s'].map(parseDuration)).to.deep.equal([
      500, 90_000, 90_000, 900_000, 5_400_000, 2_592_000_000, 3_605_000,
    ]);
    for (const bad of ['', '15', '1m30', 'm', '1 m', '-1s', '1w', '1m 30s', '1.s']) expect(parseDuration(bad), bad).to.equal(undefined);
  });

  it('writes any whole number of milliseconds so that it reads back the same', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 400 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
    expect([formatDuration(900_000), formatDuration(90_000), formatDuration(500), formatDuration(31_536_000_000)]).to.deep.equal([
      '15m',
      '1m30s',
      '500ms',
      '365d',
    ]);
  });

  it('reads sizes as Kubernetes quantities, and refuses other spellings', () => {
    expect(['64Mi', '10M', '500k', '1048576', '1.5Gi', '2Ti'].map(parseBytes)).to.deep.equal([
      64 * 2 ** 20,
      10_000_000,
      500_000,
      1_048_576,
      1.5 * 2 ** 30,
      2 * 2 ** 40,
    ]);
    for (const bad of ['', 'big', '-1', '10MB', '1 GiB', '64mi', '1K', 'Mi']) expect(parseBytes(bad), bad).to.equal(undefined);
  });

  it('writes any byte count so that it reads back the same', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => parseBytes(formatBytes(n)) === n));
    expect([formatBytes(64 * 2 ** 20), formatBytes(16 * 2 ** 20), formatBytes(1000), formatBytes(3 * 2 ** 30)]).to.deep.equal(['64Mi', '16Mi', '1000', '3Gi']);
  });
});
