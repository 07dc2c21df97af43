import { DynamicModule, Global, Module } from '@nestjs/common';
import { CLOCK, Clock, systemClock } from '../common/clock.js';
import { Env } from './env.js';

/** Provides the validated `Env` and the clock to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: Env, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: Env, useValue: env },
        { provide: CLOCK, useValue: clock },
      ],
      exports: [Env, CLOCK],
    };
  }
}
