import { OriginPolicy } from './origin-policy.js';

describe('OriginPolicy', () => {
  const policy = new OriginPolicy({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/' });

  it('allows listed origins, whatever their case or trailing slash', () => {
    expect(policy.allows('https://app.example.com', 'api.example.com')).toBe(true);
    expect(policy.allows('HTTPS://App.Example.com/', 'api.example.com')).toBe(true);
    expect(policy.allows('http://localhost:5173', 'api.example.com')).toBe(true);
  });

  it('allows the service’s own origin', () => {
    expect(policy.allows('http://127.0.0.1:3000', '127.0.0.1:3000')).toBe(true);
  });

  it('allows requests without an Origin', () => {
    expect(policy.allows(undefined, 'api.example.com')).toBe(true);
  });

  it.each([
    ['another site', 'https://evil.example.net'],
    ['another port of a listed host', 'https://app.example.com:8443'],
    ['another scheme', 'http://app.example.com'],
    ['a look-alike suffix', 'https://app.example.com.evil.net'],
    ['the opaque origin of a sandboxed page', 'null'],
    ['garbage', '::::'],
  ])('refuses %s', (_case, origin) => {
    expect(policy.allows(origin, 'api.example.com')).toBe(false);
  });

  it('allows any origin with CORS_ORIGINS=*', () => {
    expect(new OriginPolicy({ CORS_ORIGINS: '*' }).allows('https://evil.example.net', 'api.example.com')).toBe(true);
  });
});
