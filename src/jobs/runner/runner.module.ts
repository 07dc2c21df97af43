import { Module } from '@nestjs/common';
import { DatabaseModule } from '../../database/database.module.js';
import { NotifierModule } from '../../notifier/notifier.module.js';
import { AttemptExecutor } from './attempt.js';
import { JobRunner } from './job-runner.js';
import { LeaseKeeper } from './lease-keeper.js';
import { OverlapQueue } from './overlap-queue.js';
import { RunLedger } from './run-ledger.js';
import { RunSlots } from './run-slots.js';

/**
 * The runner and its parts; only its door, JobRunner, is for other modules.
 * Imported by the jobs module, so its bootstrap (the first abandoned-run
 * sweep) comes before any start-up or catch-up run.
 */
@Module({
  imports: [DatabaseModule, NotifierModule],
  providers: [RunLedger, AttemptExecutor, RunSlots, OverlapQueue, LeaseKeeper, JobRunner],
  exports: [JobRunner],
})
export class RunnerModule {}
