import type { SchemaObject } from '@nestjs/swagger';

const SCHEMA_REF = /^#\/components\/schemas\/(.+)$/;

/**
 * The schemas of `pool` that `root` refers to, directly or through each other:
 * a document carries those and no others. Throws on a reference to a schema
 * the pool lacks, so a misspelt name stops start-up instead of shipping.
 */
export function referencedSchemas<S extends object = SchemaObject>(
  root: unknown,
  pool: Record<string, S>,
): Record<string, S> {
  const found: Record<string, S> = {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const name = key === '$ref' && typeof value === 'string' ? SCHEMA_REF.exec(value)?.[1] : undefined;
      if (name === undefined) visit(value);
      else if (!(name in found)) {
        if (!(name in pool)) throw new Error(`the API description refers to schema ${name}, which is not defined`);
        found[name] = pool[name];
        visit(pool[name]);
      }
    }
  };
  visit(root);
  return Object.fromEntries(Object.entries(found).sort(([a], [b]) => a.localeCompare(b)));
}
