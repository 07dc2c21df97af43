import { CRON_OVERRIDES, cronVariableOf, Env } from './env.js';
import { declaredVariables, type DeclaredVariable } from './variable.decorator.js';

/** What the docs page keeps between these lines is rewritten by `npm run config:docs`. */
export const TABLE_START = '<!-- generated from src/config/env.ts by `npm run config:docs`: edit there, not here -->';
export const TABLE_END = '<!-- end of the generated table -->';

const ENV_EXAMPLE_WIDTH = 118;

interface Row {
  variable: string;
  /** As written in the environment, or `undefined` when unset is the default. */
  value: string | undefined;
  /** The default in words when it is not a value (`<hostname>-<pid>`, the job's own schedule). */
  defaultInWords?: string;
  /** A value to suggest, commented out, when the default is unset or computed. */
  example?: string;
  accepts: string;
  meaning: string;
}

interface Section {
  title: string;
  rows: Row[];
}

function sections(): Section[] {
  const defaults = new Env();
  const byGroup = new Map<string, Row[]>();
  for (const variable of declaredVariables(Env)) {
    const rows = byGroup.get(variable.group) ?? [];
    rows.push(rowOf(variable, Reflect.get(defaults, variable.name)));
    byGroup.set(variable.group, rows);
  }
  const cronPattern = {
    title: 'Job schedules',
    rows: [
      {
        variable: '<JOB_NAME>_CRON',
        value: undefined,
        defaultInWords: "the job's `@Cron`",
        accepts: CRON_OVERRIDES.accepts,
        meaning: CRON_OVERRIDES.meaning,
      },
      ...CRON_OVERRIDES.builtIn.map(({ job, declared, meaning }) => ({
        variable: cronVariableOf(job),
        value: undefined,
        defaultInWords: `the job's \`@Cron('${declared}')\``,
        example: declared,
        accepts: 'what `<JOB_NAME>_CRON` accepts',
        meaning,
      })),
    ],
  };
  return [...[...byGroup].map(([title, rows]) => ({ title, rows })), cronPattern];
}

function rowOf(variable: DeclaredVariable, defaultValue: unknown): Row {
  const { name, accepts, meaning, computedDefault } = variable;
  return computedDefault
    ? {
        variable: name,
        value: undefined,
        defaultInWords: computedDefault.shownAs,
        example: computedDefault.example,
        accepts,
        meaning,
      }
    : defaultValue === undefined
      ? { variable: name, value: undefined, example: '', accepts, meaning }
      : { variable: name, value: variable.format(defaultValue), accepts, meaning };
}

/** `.env.example`: every variable with its meaning, what it accepts and its default, by section. */
export function renderEnvExample(): string {
  const lines = [
    '# jobpulse configuration, generated from src/config/env.ts by `npm run config:docs`: edit that file, not this one.',
    '# Copy it to .env (read at start-up when present; real environment variables win) and change what you need.',
    '# An unset or empty variable takes the default shown here. An invalid value stops start-up with one message',
    '# naming every bad variable and what it accepts. docs/configuration.md says more.',
  ];
  for (const { title, rows } of sections()) {
    lines.push('', `# --- ${title} ---`);
    for (const row of rows) {
      const unset = row.defaultInWords ? ` Unset: ${row.defaultInWords}.` : '';
      lines.push('', ...comment(`${row.meaning} Accepts ${row.accepts}.${unset}`));
      if (row.value !== undefined) lines.push(`${row.variable}=${row.value}`);
      else if (row.example !== undefined) lines.push(`# ${row.variable}=${row.example}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Comment lines of at most ENV_EXAMPLE_WIDTH characters, without the docs' backticks and never breaking inside them. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of unbrokenWords(text)) {
    if (line.length > 1 && line.length + 1 + word.length > ENV_EXAMPLE_WIDTH) {
      lines.push(line);
      // Indented, a line beginning `NAME=value` is not mistaken for a setting commented out.
      line = /^[A-Z][A-Z0-9_]*=/.test(word) ? '# ' : '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** The words of `text`, a `code span` with spaces counting as one. */
function unbrokenWords(text: string): string[] {
  const words: string[] = [];
  for (const word of text.split(' ')) {
    const last = words.at(-1);
    const insideCode = last !== undefined && last.split('`').length % 2 === 0;
    if (insideCode) words[words.length - 1] = `${last} ${word}`;
    else words.push(word);
  }
  return words.map((word) => word.replaceAll('`', ''));
}

/** The docs' tables, one per section, aligned as Prettier aligns Markdown tables so that it leaves them alone. */
export function renderConfigurationTable(): string {
  return sections()
    .map(({ title, rows }) => {
      const cells = rows.map((row) => [
        `\`${row.variable}\``,
        row.value !== undefined ? `\`${row.value}\`` : row.defaultInWords ? `unset: ${row.defaultInWords}` : 'unset',
        row.accepts,
        row.meaning,
      ]);
      return [`### ${title}`, '', ...table(['Variable', 'Default', 'Accepts', 'Meaning'], cells)].join('\n');
    })
    .join('\n\n');
}

function table(header: string[], rows: string[][]): string[] {
  const escaped = [header, ...rows].map((cells) => cells.map((cell) => cell.replaceAll('|', '\\|')));
  const widths = header.map((_, column) => Math.max(3, ...escaped.map((cells) => cells[column].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  const [head, ...body] = escaped;
  return [line(head), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)];
}

/** `page` with the text between its markers replaced by the current table; throws when a marker is missing. */
export function withConfigurationTable(page: string): string {
  const start = page.indexOf(TABLE_START);
  const end = page.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the page must contain "${TABLE_START}" and, after it, "${TABLE_END}"`);
  return `${page.slice(0, start + TABLE_START.length)}\n\n${renderConfigurationTable()}\n\n${page.slice(end)}`;
}
