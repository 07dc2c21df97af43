// Native ESM mode (NODE_OPTIONS=--experimental-vm-modules): NestJS 12 ships ES modules only.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

const suites = {
  unit: ['<rootDir>/src/**/*.spec.ts'],
  e2e: ['<rootDir>/test/**/*.e2e-spec.ts'],
};

// Every spec runs once per storage dialect: `unit:sqlite`, `unit:postgres`, `e2e:sqlite`, `e2e:postgres`.
// The project's setup file sets JOBPULSE_TEST_DIALECT, which test/support/database.ts reads.
const dialects = { sqlite: 'blue', postgres: 'magenta' };

// Specs that need PostgreSQL whatever the dialect (replicas sharing one database, the test cluster itself): e2e:postgres only.
const postgresOnly = ['/test/cluster-events\\.', '/test/cluster-scheduling\\.', '/test/postgres-cluster\\.'];

export default {
  testTimeout: 30000,
  // Starts one throwaway PostgreSQL server for the run (unless JOBPULSE_TEST_POSTGRES_URL names one) and removes it.
  globalSetup: '<rootDir>/test/support/jest-global-setup.cjs',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.cjs',
  projects: Object.entries(suites).flatMap(([suite, testMatch]) =>
    Object.entries(dialects).map(([dialect, color]) => ({
      ...common,
      displayName: { name: `${suite}:${dialect}`, color },
      testMatch,
      setupFiles: [`<rootDir>/test/support/dialect/${dialect}.ts`],
      testPathIgnorePatterns: ['/node_modules/', ...(dialect === 'sqlite' ? postgresOnly : [])],
    })),
  ),
};
