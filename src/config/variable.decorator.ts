import { IsBoolean, IsIn, IsInt, Max, Min } from 'class-validator';

/** Sections of `.env.example` and of the configuration table, in the order they appear. */
export type VariableGroup =
  'Server' | 'Sign-in and roles' | 'Limits' | 'Database and replicas' | 'Scheduling' | 'Runs' | 'Retention';

export type VariableKind = 'integer' | 'duration' | 'boolean' | 'enum' | 'string';

/** What a variable's decorator says about it, beyond its validators. */
export interface VariableDescription {
  group: VariableGroup;
  /** What the variable does; `code` in backticks (kept in the docs, dropped in `.env.example`). */
  meaning: string;
  /** For a default computed at start-up (NODE_ID): how the docs show it, and the value `.env.example` suggests. */
  computedDefault?: { shownAs: string; example: string };
  /** Never shown: a rejected value is written `***` in the start-up error. */
  secret?: boolean;
}

/** One environment variable as `Env` declares it: read by `loadEnv` to convert it and by the docs renderer. */
export interface DeclaredVariable extends VariableDescription {
  name: string;
  kind: VariableKind;
  /** What values it accepts, in words. */
  accepts: string;
  /** The trimmed, non-empty text of the variable as the validators see it; text of the wrong shape is left for them to reject. */
  parse(text: string): unknown;
  /** A value as it would be written in the environment. */
  format(value: unknown): string;
}

type Conversion = Pick<DeclaredVariable, 'kind' | 'accepts' | 'parse' | 'format'>;

const declared = new WeakMap<object, DeclaredVariable[]>();

/** The variables a class declares with these decorators, in declaration order. */
export function declaredVariables(target: abstract new (...args: never[]) => unknown): readonly DeclaredVariable[] {
  return declared.get(target) ?? [];
}

function variable(
  conversion: Conversion,
  description: VariableDescription,
  validators: PropertyDecorator[],
): PropertyDecorator {
  return (prototype, property) => {
    // Bottom-up, as if stacked above the property: messages keep the order they had as `@IsInt() @Min() @Max()`.
    for (const validate of validators.toReversed()) validate(prototype, property);
    const variables = declared.get(prototype.constructor) ?? [];
    variables.push({ name: String(property), ...description, ...conversion });
    declared.set(prototype.constructor, variables);
  };
}

const DURATION_UNITS_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type DurationUnit = keyof typeof DURATION_UNITS_MS;

/** Milliseconds, or a whole number with a unit (`500ms`, `30s`, `15m`, `24h`, `2d`). */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text);
  return match ? Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? 'ms') as DurationUnit] : undefined;
}

/** The shortest way to write `ms`: in the largest unit that divides it (`600000` is `10m`). */
export function formatDuration(ms: number): string {
  const unit = (Object.keys(DURATION_UNITS_MS) as DurationUnit[]).find((name) => ms % DURATION_UNITS_MS[name] === 0);
  return ms === 0 || !unit ? String(ms) : `${ms / DURATION_UNITS_MS[unit]}${unit}`;
}

const asText = (value: unknown) => String(value);
const asGiven = (text: string) => text;

/** Decorators that declare an `Env` property as a variable of one kind, with its validators and its description. */
export const Variable = {
  integer: ({ min, max, ...description }: VariableDescription & { min: number; max: number }) =>
    variable(
      {
        kind: 'integer',
        accepts: `an integer from ${min} to ${max}`,
        parse: (text) => (/^-?\d+$/.test(text) ? Number(text) : text),
        format: asText,
      },
      description,
      [IsInt(), Min(min), Max(max)],
    ),

  duration: ({ min, max, ...description }: VariableDescription & { min: number; max: number }) =>
    variable(
      {
        kind: 'duration',
        accepts: `milliseconds, or a whole number with a unit \`ms\`, \`s\`, \`m\`, \`h\` or \`d\` (\`90s\`, \`15m\`, \`24h\`, \`2d\`); from ${formatDuration(min)} to ${formatDuration(max)}`,
        parse: (text) => parseDuration(text) ?? text,
        format: (value) => formatDuration(Number(value)),
      },
      description,
      [IsInt({ message: '$property must be a duration such as 86400000, 90m, 24h or 2d' }), Min(min), Max(max)],
    ),

  boolean: (description: VariableDescription) =>
    variable(
      {
        kind: 'boolean',
        accepts: '`true` or `false` (also `1` or `0`)',
        parse: (text) => (text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text),
        format: asText,
      },
      description,
      [IsBoolean({ message: '$property must be true or false' })],
    ),

  oneOf: (values: readonly string[], description: VariableDescription) =>
    variable(
      {
        kind: 'enum',
        accepts: `one of ${values.map((value) => `\`${value}\``).join(', ')}`,
        parse: asGiven,
        format: asText,
      },
      description,
      [IsIn(values)],
    ),

  /** A string, checked by the class-validator decorators beside it; `accepts` says in words what they allow. */
  string: ({ accepts, ...description }: VariableDescription & { accepts: string }) =>
    variable({ kind: 'string', accepts, parse: asGiven, format: asText }, description, []),
};
