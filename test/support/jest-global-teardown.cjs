// Jest global teardown: destroys the throwaway cluster of jest-global-setup.cjs, or, on a
// server of the developer's own (JOBPULSE_TEST_POSTGRES_URL), drops the databases this run made.
const { dropPostgresDatabasesStartingWith } = require('./postgres.ts');

module.exports = async function globalTeardown() {
  const cluster = globalThis.__JOBPULSE_POSTGRES_CLUSTER__;
  if (cluster) {
    globalThis.__JOBPULSE_POSTGRES_CLUSTER__ = undefined;
    delete process.env.JOBPULSE_TEST_POSTGRES_URL;
    await cluster.destroy();
    return;
  }
  const prefix = process.env.JOBPULSE_TEST_DATABASE_PREFIX;
  if (prefix && process.env.JOBPULSE_TEST_POSTGRES_URL) await dropPostgresDatabasesStartingWith(prefix);
};
