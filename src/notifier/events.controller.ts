import { Controller, Get, Query } from '@nestjs/common';
import { EventsRepository } from '../database/events.repository.js';
import type { JobpulseEvent } from './events.js';
import { EventsQueryDto } from './events.dto.js';

/** Lets a client that was disconnected catch up on the events it missed. */
@Controller('api/events')
export class EventsController {
  constructor(private readonly events: EventsRepository) {}

  @Get()
  async list(@Query() query: EventsQueryDto): Promise<JobpulseEvent[]> {
    return (await this.events.listAfter(query.after, query.limit)) as JobpulseEvent[];
  }
}
