import type { JWTPayload } from 'jose';
import type { Role } from './access.decorator.js';

/** The role names tokens carry for each of jobpulse's roles (AUTH_VIEWER_ROLE, AUTH_OPERATOR_ROLE). */
export interface RoleNames {
  viewer: string;
  operator: string;
}

/**
 * The roles a token's claims grant. `claim` names a top-level claim (`roles`,
 * `https://example.com/roles`, dots and all) or, when no such claim exists, a
 * dotted path into nested claims (`realm_access.roles`). Its value is an array
 * of names or a space-separated string (OAuth's `scope` style). An operator
 * may do everything a viewer may.
 */
export function rolesIn(payload: JWTPayload, claim: string, names: RoleNames): Set<Role> {
  const value = Object.hasOwn(payload, claim) ? payload[claim] : valueAt(payload, claim.split('.'));
  const granted = new Set(Array.isArray(value) ? value.filter((name) => typeof name === 'string') : []);
  if (typeof value === 'string') value.split(/\s+/).forEach((name) => granted.add(name));
  const roles = new Set<Role>();
  if (granted.has(names.operator)) roles.add('operator').add('viewer');
  if (granted.has(names.viewer)) roles.add('viewer');
  return roles;
}

function valueAt(value: unknown, path: string[]): unknown {
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
