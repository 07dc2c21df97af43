// Jest global setup (runs once, in Jest's main process, before any worker starts).
// Gives the PostgreSQL projects a server: the one JOBPULSE_TEST_POSTGRES_URL names, or a
// throwaway cluster started here (installing PostgreSQL first when it is missing), whose
// admin URL it then puts in JOBPULSE_TEST_POSTGRES_URL for the workers to inherit.
//
// CommonJS on purpose: Jest loads global hooks through its require hook, which compiles
// the TypeScript files required below with ts-jest (they import no relative files).
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { join } = require('node:path');
const { findPostgresBinDir, startPostgresCluster } = require('./postgres-cluster.ts');

/** True unless --selectProjects / --ignoreProjects leave only SQLite projects. */
function postgresProjectSelected(globalConfig) {
  const selected = globalConfig.selectProjects;
  const ignored = globalConfig.ignoreProjects ?? [];
  const isPostgres = (name) => name.endsWith(':postgres');
  if (selected && !selected.some(isPostgres)) return false;
  const all = ['medium:postgres', 'cluster:postgres'];
  return all.some((name) => !ignored.includes(name));
}

module.exports = async function globalSetup(globalConfig) {
  if (!postgresProjectSelected(globalConfig)) return;
  process.env.JOBPULSE_TEST_DATABASE_PREFIX = `jobpulse_test_${randomBytes(3).toString('hex')}_`;
  if (process.env.JOBPULSE_TEST_POSTGRES_URL) return; // a server of the developer's own: start nothing

  if (!findPostgresBinDir()) {
    const script = join(globalConfig.rootDir, 'scripts', 'ensure-postgres.sh');
    const { status } = spawnSync('sh', [script], { stdio: 'inherit' });
    if (status !== 0) throw new Error(`${script} could not install PostgreSQL (exit ${status}); see its output above`);
  }
  const cluster = await startPostgresCluster();
  globalThis.__JOBPULSE_POSTGRES_CLUSTER__ = cluster;
  process.env.JOBPULSE_TEST_POSTGRES_URL = cluster.url;
};
