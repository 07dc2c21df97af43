import { pino } from 'pino';
import { logDestination, type LogOutputs } from './log-destination.js';
import { LINE_FORMAT } from './log-format.js';

/** A destination that keeps what it is given, line by line. */
function capture() {
  const lines: string[] = [];
  return { lines, write: (chunk: string) => void lines.push(...chunk.split('\n').filter((line) => line !== '')) };
}

/** Writes one line at each level through the destination, and says what reached each output. */
function writeEveryLevel(
  nodeEnv: 'development' | 'production' | 'test',
  outputs: Omit<LogOutputs, 'out' | 'err'> = {},
) {
  const out = capture();
  const err = capture();
  const destination = logDestination(nodeEnv, { out, err, ...outputs });
  const logger = pino({ ...LINE_FORMAT, level: 'trace' }, destination.stream);
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) logger[level](`a ${level} line`);
  return { out: out.lines, err: err.lines, prettyUnavailable: destination.prettyUnavailable };
}

const levelsOf = (lines: string[]) => lines.map((line) => (JSON.parse(line) as { level: string }).level);

describe('logDestination', () => {
  it.each(['production', 'test'] as const)(
    'writes JSON lines with NODE_ENV=%s: error and fatal to err only, the others to out only',
    (nodeEnv) => {
      const { out, err, prettyUnavailable } = writeEveryLevel(nodeEnv);

      expect(levelsOf(out)).toEqual(['trace', 'debug', 'info', 'warn']);
      expect(levelsOf(err)).toEqual(['error', 'fatal']);
      expect(prettyUnavailable).toBeUndefined();
    },
  );

  it('writes readable lines with NODE_ENV=development, split the same way', () => {
    const { out, err, prettyUnavailable } = writeEveryLevel('development');

    expect(prettyUnavailable).toBeUndefined();
    expect(out).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] TRACE: a trace line$/),
      expect.stringMatching(/DEBUG: a debug line$/),
      expect.stringMatching(/INFO: a info line$/),
      expect.stringMatching(/WARN: a warn line$/),
    ]);
    expect(err).toEqual([expect.stringMatching(/ERROR: a error line$/), expect.stringMatching(/FATAL: a fatal line$/)]);
  });

  it('falls back to JSON lines in development when pino-pretty cannot be loaded, and says why', () => {
    const missing = () => {
      throw new Error("Cannot find module 'pino-pretty'");
    };

    const { out, err, prettyUnavailable } = writeEveryLevel('development', { loadPretty: missing });

    expect(levelsOf(out)).toEqual(['trace', 'debug', 'info', 'warn']);
    expect(levelsOf(err)).toEqual(['error', 'fatal']);
    expect(prettyUnavailable).toBe("Cannot find module 'pino-pretty'");
  });
});
