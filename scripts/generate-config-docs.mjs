// Writes .env.example and the table in docs/configuration.md from src/config/env.ts, as built into dist/
// (`npm run config:docs` builds first). src/config/env-docs.spec.ts fails when the checked-in copies differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withConfigurationTable } from '../dist/config/env-docs.js';

const root = new URL('../', import.meta.url);
const page = new URL('docs/configuration.md', root);
writeFileSync(new URL('.env.example', root), renderEnvExample());
writeFileSync(page, withConfigurationTable(readFileSync(page, 'utf8')));
console.log('wrote .env.example and the table in docs/configuration.md');
