import { loadConfig } from '../../../lib/config/load-config';

describe('Config: config/airlock.oauth.yaml', () => {
  it('is the example pilot plus an oauth section whose principals can sign in', () => {
    // Prepare
    const example = loadConfig('config/airlock.config.yaml');
    const { oauth, ...rest } = loadConfig('config/airlock.oauth.yaml');
    // Assess: nothing else drifts from the main example
    expect(JSON.parse(JSON.stringify(rest))).toEqual(JSON.parse(JSON.stringify(example)));
    expect(oauth?.workflow).toBe('expense-summary');
    expect(Object.keys(oauth?.identityProvider.subjects ?? {})).toEqual(['alice', 'bob']);
  });
});
