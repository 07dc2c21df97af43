import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import {
  renderConfigurationTable,
  renderEnvExample,
  TABLE_END,
  TABLE_START,
  withConfigurationTable,
} from './env-docs.js';
import { cronVariableOf, CRON_OVERRIDES, Env, loadEnv } from './env.js';
import { declaredVariables, formatDuration, parseDuration } from './variable.decorator.js';

const REGENERATE = 'npm run config:docs';

function checkedIn(path: string): string {
  return readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
}

/** Fails naming the file, its first differing line and the command that regenerates it. */
function expectGenerated(path: string, actual: string, expected: string): void {
  if (actual === expected) return;
  const actualLines = actual.split('\n');
  const expectedLines = expected.split('\n');
  const line = actualLines.findIndex((text, index) => text !== expectedLines[index]);
  const at = line < 0 ? actualLines.length : line;
  throw new Error(
    `${path} is out of date with src/config/env.ts; run \`${REGENERATE}\` and commit the result.\n` +
      `First difference, line ${at + 1}:\n  checked in: ${actualLines[at] ?? '(end of file)'}\n` +
      `  generated:  ${expectedLines[at] ?? '(end of file)'}`,
  );
}

describe('the generated configuration docs', () => {
  it(`.env.example is what \`${REGENERATE}\` writes`, () => {
    expectGenerated('.env.example', checkedIn('.env.example'), renderEnvExample());
  });

  it(`the table in docs/configuration.md is what \`${REGENERATE}\` writes`, () => {
    const page = checkedIn('docs/configuration.md');
    expectGenerated('docs/configuration.md', page, withConfigurationTable(page));
  });

  it('.env.example, copied to .env as it is, gives the defaults', () => {
    const example = parseEnv(renderEnvExample());

    expect({ ...loadEnv(example) }).toEqual({ ...loadEnv({}) });
  });

  it(".env.example lists every variable Env declares, and the built-in jobs' schedule variables", () => {
    const listed = [...renderEnvExample().matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    const builtIn = CRON_OVERRIDES.builtIn.map(({ job }) => cronVariableOf(job));

    expect(listed).toEqual([...declaredVariables(Env).map(({ name }) => name), ...builtIn]);
  });

  it("the table has a row for every variable, the <JOB_NAME>_CRON pattern and the built-in jobs' variables", () => {
    const rows = [...renderConfigurationTable().matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1]);

    expect(rows).toEqual([
      ...declaredVariables(Env).map(({ name }) => name),
      '<JOB_NAME>_CRON',
      'DAILY_REPORT_CRON',
      'CLEANUP_CRON',
    ]);
  });

  it('replaces only what lies between the markers, keeping the prose around them', () => {
    const page = `# Title\n\nIntro.\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nMore prose.\n`;

    expect(withConfigurationTable(page)).toBe(
      `# Title\n\nIntro.\n\n${TABLE_START}\n\n${renderConfigurationTable()}\n\n${TABLE_END}\n\nMore prose.\n`,
    );
  });

  it('refuses a page without its markers, naming them', () => {
    expect(() => withConfigurationTable('# Configuration\n')).toThrow(TABLE_START);
  });
});

describe('durations', () => {
  it.each([
    [0, '0'],
    [250, '250ms'],
    [90_000, '90s'],
    [600_000, '10m'],
    [5_400_000, '90m'],
    [86_400_000, '1d'],
    [90_061_001, '90061001ms'],
  ])('writes %s ms as %s, which reads back as the same', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
