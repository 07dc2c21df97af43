// PostgreSQL for the benchmark: the tests' throwaway server (test/support/postgres-cluster.ts,
// compiled here with TypeScript's transpiler: it imports node: built-ins only), or the server
// JOBPULSE_TEST_POSTGRES_URL names, as for the tests. Undefined when neither can be had: the
// PostgreSQL figures are then skipped, saying why.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import ts from 'typescript';
import { ROOT } from './processes.mjs';

/** `{ adminUrl, createDatabase(), stop() }`, or `{ skipped: reason }`. */
export async function startPostgres(dir) {
  const given = process.env.JOBPULSE_TEST_POSTGRES_URL;
  if (given) return postgresAt(given, async () => {});
  const source = readFileSync(resolve(ROOT, 'test/support/postgres-cluster.ts'), 'utf8');
  const compiled = join(dir, 'postgres-cluster.mjs');
  writeFileSync(
    compiled,
    ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
      .outputText,
  );
  const { findPostgresBinDir, startPostgresCluster, INSTALL_HINT } = await import(compiled);
  if (!findPostgresBinDir()) return { skipped: `no PostgreSQL server programs: ${INSTALL_HINT}` };
  const cluster = await startPostgresCluster();
  return postgresAt(cluster.url, () => cluster.destroy());
}

function postgresAt(adminUrl, stop) {
  return {
    adminUrl,
    stop,
    /** A new, empty database on the server; its URL. */
    async createDatabase() {
      const name = `jobpulse_bench_${randomBytes(6).toString('hex')}`;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
  };
}
