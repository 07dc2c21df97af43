import { Module } from '@nestjs/common';
import { SchedulesController } from './schedules.controller.js';

/** Cron expressions: the evaluator every fire time comes from, and its preview route. */
@Module({ controllers: [SchedulesController] })
export class SchedulesModule {}
