import { ANONYMOUS } from '../auth/authenticator.js';
import { rateLimitClientOf } from './rate-limit-client.js';

describe('rateLimitClientOf', () => {
  const alice = { sub: 'alice', roles: new Set(['operator'] as const) };

  it('counts a signed-in user by their sub, whatever their address', () => {
    expect(rateLimitClientOf({ user: alice, ip: '203.0.113.1' })).toBe('user:alice');
    expect(rateLimitClientOf({ user: alice, ip: '198.51.100.2' })).toBe('user:alice');
  });

  it('counts by address without sign-in, where everyone is anonymous', () => {
    expect(rateLimitClientOf({ user: ANONYMOUS, ip: '203.0.113.1' })).toBe('address:203.0.113.1');
    expect(rateLimitClientOf({ user: { ...ANONYMOUS }, ip: '198.51.100.2' })).toBe('address:198.51.100.2');
  });

  it('counts by address when no guard set a user', () => {
    expect(rateLimitClientOf({ ip: '2001:db8::1' })).toBe('address:2001:db8::1');
  });

  it('keeps a user whose sub looks like an address apart from that address', () => {
    const named = { sub: '203.0.113.1', roles: new Set(['viewer'] as const) };

    expect(rateLimitClientOf({ user: named, ip: '198.51.100.2' })).not.toBe(rateLimitClientOf({ ip: '203.0.113.1' }));
  });

  it('puts requests whose address Express no longer knows in one budget', () => {
    expect(rateLimitClientOf({})).toBe('address:unknown');
  });
});
