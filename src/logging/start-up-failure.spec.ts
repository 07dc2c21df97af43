import { writeStartUpFailure } from './start-up-failure.js';

describe('writeStartUpFailure', () => {
  it('writes one fatal line in the shape of every other line', () => {
    const written: string[] = [];

    writeStartUpFailure('Invalid environment:\n  PORT="eighty": PORT must be an integer number', {
      write: (line: string) => void written.push(line),
    });

    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/\n$/);
    expect(JSON.parse(written[0])).toEqual({
      level: 'fatal',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      pid: process.pid,
      hostname: expect.any(String),
      context: 'Main',
      msg: 'Invalid environment:\n  PORT="eighty": PORT must be an integer number',
    });
  });
});
