import { readFileSync } from 'node:fs';

/** One instruction, with its continuation lines joined: `keyword` upper-case, `args` as written after it. */
export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

/**
 * The stages of a Dockerfile, for specs that perform its steps without Docker
 * and must keep to what it says. Reads the subset the project's Dockerfile
 * uses: comments, backslash continuations, `FROM … AS name`.
 */
export function readDockerfile(path: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*#/.test(line)) continue; // comments, parser directives, and comments inside a continuation
    pending += line.trimEnd();
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1);
      continue;
    }
    const match = /^\s*(\w+)\s+(.*)$/.exec(pending);
    pending = '';
    if (!match) continue;
    const instruction = { keyword: match[1].toUpperCase(), args: match[2].trim() };
    if (instruction.keyword === 'FROM') {
      stages.push({ name: /\s+AS\s+(\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

export function stageNamed(stages: Stage[], name: string): Stage {
  const stage = stages.find((candidate) => candidate.name === name);
  if (!stage) throw new Error(`the Dockerfile has no stage named ${name}`);
  return stage;
}

/** The arguments of each instruction of the stage with that keyword, in order. */
export function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map(({ args }) => args);
}

/** The variables a stage's `ENV key=value …` instructions set (unquoted values only: a quote is refused, not guessed). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const match = /^([A-Za-z_]\w*)=([^"'\s]*)$/.exec(pair);
      if (!match) throw new Error(`ENV ${args}: expected unquoted key=value pairs, got ${pair}`);
      env[match[1]] = match[2];
    }
  }
  return env;
}

/** An exec-form command (`["node", "dist/main.js"]`), as the argument list Docker runs; the shell form is refused. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((arg) => typeof arg === 'string'))
    throw new Error(`expected an exec-form JSON array of strings, got ${args}`);
  return parsed;
}
