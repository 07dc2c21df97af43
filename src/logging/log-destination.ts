import { createRequire } from 'node:module';
import { pino, type DestinationStream, type StreamEntry } from 'pino';
import type PinoPretty from 'pino-pretty';
import { messageOf } from '../common/errors.js';
import type { NodeEnvName } from '../config/env.js';

/** A file descriptor or a stream; tests give streams to read what was written. */
type Output = number | DestinationStream;

export interface LogOutputs {
  /** Where `trace` to `warn` lines go: standard output unless given. */
  out?: Output;
  /** Where `error` and `fatal` lines go: standard error unless given. */
  err?: Output;
  /** Loads pino-pretty; a test gives one that throws, as a missing package would. */
  loadPretty?: () => typeof PinoPretty;
}

export interface LogDestination {
  stream: DestinationStream;
  /** Why the lines are JSON although NODE_ENV=development asked for readable ones. */
  prettyUnavailable?: string;
}

const requireFromHere = createRequire(import.meta.url);

/**
 * `error` and `fatal` lines to standard error, the others to standard output: as JSON lines, or,
 * when NODE_ENV=development, as readable ones if pino-pretty can be loaded. Writes are synchronous,
 * so that nothing is lost when the process exits right after a line.
 */
export function logDestination(nodeEnv: NodeEnvName, outputs: LogOutputs = {}): LogDestination {
  const { out = 1, err = 2, loadPretty = () => requireFromHere('pino-pretty') as typeof PinoPretty } = outputs;
  if (nodeEnv === 'development') {
    try {
      const pretty = loadPretty();
      return { stream: split(prettyOutput(pretty, out), prettyOutput(pretty, err)) };
    } catch (error) {
      return { stream: split(destinationOf(out), destinationOf(err)), prettyUnavailable: messageOf(error) };
    }
  }
  return { stream: split(destinationOf(out), destinationOf(err)) };
}

/** Each line goes to one stream only (dedupe): the one with the highest level the line reaches. */
function split(out: DestinationStream, err: DestinationStream): DestinationStream {
  const streams: StreamEntry[] = [
    { level: 'trace', stream: out },
    { level: 'error', stream: err },
  ];
  return pino.multistream(streams, { dedupe: true });
}

function destinationOf(output: Output): DestinationStream {
  return typeof output === 'number' ? pino.destination({ fd: output, sync: true }) : output;
}

/** pino-pretty's formatter, not its stream: that one pipes through streams, which a process exit can cut short. */
function prettyOutput(pretty: typeof PinoPretty, output: Output): DestinationStream {
  const prettify = pretty.prettyFactory({
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  const destination = destinationOf(output);
  return { write: (line: string) => destination.write(prettify(line)) };
}
