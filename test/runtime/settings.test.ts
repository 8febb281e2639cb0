import { expect } from 'chai';
import { AGENT_REFRESH_MS, checkFreshness, NODECACHE_TTL_MS, SettingsError } from '../../src/runtime/settings.js';
import { UserError } from '../../src/runtime/errors.js';

describe("runtime/settings: the NodeCache TTL and the agents' refresh interval", () => {
  it('ship in the relation they must keep', () => {
    expect(() => checkFreshness(NODECACHE_TTL_MS, AGENT_REFRESH_MS)).not.to.throw();
  });

  it('refuses a TTL not longer than the refresh interval, naming both settings and the fix', () => {
    for (const [ttl, refresh] of [
      [600_000, 600_000],
      [300_000, 600_000],
    ]) {
      let err: unknown;
      try {
        checkFreshness(ttl, refresh, { ttl: '--ttl', refresh: '--refresh-interval' });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(SettingsError).and.instanceOf(UserError);
      expect((err as Error).message).to.match(/^--ttl \((10|5)m\) must be longer than --refresh-interval \(10m\)/);
      expect((err as UserError).hint).to.equal('raise --ttl or lower --refresh-interval');
    }
    expect(() => checkFreshness(600_001, 600_000)).not.to.throw();
  });
});
