import { referencedSchemas } from './referenced-schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe('referencedSchemas', () => {
  const pool = {
    Job: { type: 'object', properties: { lastRun: ref('Run') } },
    Run: { type: 'object', properties: { retryOf: { oneOf: [ref('Run'), { type: 'null' }] } } },
    Report: { type: 'object' },
  };

  it('keeps the schemas referred to, through each other and around cycles, and drops the rest', () => {
    const found = referencedSchemas({ responses: { 200: { schema: { type: 'array', items: ref('Job') } } } }, pool);

    expect(Object.keys(found)).toEqual(['Job', 'Run']);
    expect(found.Run).toBe(pool.Run);
  });

  it('names a schema referred to but not defined', () => {
    expect(() => referencedSchemas([ref('Run'), ref('Nope')], pool)).toThrow(
      'the API description refers to schema Nope, which is not defined',
    );
  });
});
