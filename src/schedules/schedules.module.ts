import { Module } from '@nestjs/common';
import { SchedulesController } from './schedules.controller.js';
import { SchedulesService } from './schedules.service.js';

/** Cron expressions: the evaluator every fire time comes from, and its preview route. */
@Module({ controllers: [SchedulesController], providers: [SchedulesService] })
export class SchedulesModule {}
