import { rolesIn } from './roles-claim.js';

const names = { viewer: 'viewer', operator: 'operator' };
const sorted = (roles: Set<string>) => [...roles].sort();

describe('rolesIn', () => {
  it('reads an array of role names', () => {
    expect(sorted(rolesIn({ roles: ['viewer'] }, 'roles', names))).toEqual(['viewer']);
  });

  it('gives an operator the viewer role too', () => {
    expect(sorted(rolesIn({ roles: ['operator'] }, 'roles', names))).toEqual(['operator', 'viewer']);
  });

  it('reads a space-separated string', () => {
    expect(sorted(rolesIn({ scope: 'openid operator' }, 'scope', names))).toEqual(['operator', 'viewer']);
  });

  it('follows a dotted path into nested claims', () => {
    const payload = { realm_access: { roles: ['offline_access', 'viewer'] } };

    expect(sorted(rolesIn(payload, 'realm_access.roles', names))).toEqual(['viewer']);
  });

  it('takes a claim whose name has dots as it is, before trying it as a path', () => {
    const payload = { 'https://jobpulse.example.com/roles': ['operator'] };

    expect(sorted(rolesIn(payload, 'https://jobpulse.example.com/roles', names))).toEqual(['operator', 'viewer']);
  });

  it('maps role names of your identity provider', () => {
    const payload = { groups: ['jobpulse-admins'] };

    expect(sorted(rolesIn(payload, 'groups', { viewer: 'jobpulse-readers', operator: 'jobpulse-admins' }))).toEqual([
      'operator',
      'viewer',
    ]);
  });

  it.each([
    ['a missing claim', {}],
    ['a number', { roles: 7 }],
    ['an object', { roles: { operator: true } }],
    ['unknown names', { roles: ['admin', 'Operator'] }],
    ['a path through an array', { realm_access: [{ roles: ['operator'] }] }],
  ])('grants nothing for %s', (_case, payload) => {
    expect(rolesIn(payload, 'roles', names).size).toBe(0);
    expect(rolesIn(payload, 'realm_access.roles', names).size).toBe(0);
  });

  it('does not read inherited properties along a path', () => {
    expect(rolesIn({ roles: [] }, 'constructor.name', names).size).toBe(0);
  });
});
