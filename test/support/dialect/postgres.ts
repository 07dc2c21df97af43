// Setup file of the `*:postgres` Jest projects: test support gives them databases on the
// PostgreSQL server of JOBPULSE_TEST_POSTGRES_URL (see test/support/jest-global-setup.cjs).
process.env.JOBPULSE_TEST_DIALECT = 'postgres';
