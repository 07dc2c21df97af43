// Setup file of the `*:sqlite` Jest projects: test support gives them SQLite databases.
process.env.JOBPULSE_TEST_DIALECT = 'sqlite';
