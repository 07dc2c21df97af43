import { Controller, Get, Query } from '@nestjs/common';
import { EventFeed } from './event-feed.js';
import type { JobpulseEvent } from './events.js';
import { EventsQueryDto } from './events.dto.js';
import { Access } from '../auth/access.decorator.js';

/** Lets a client that was disconnected catch up on the events it missed. */
@Controller('api/events')
@Access('viewer')
export class EventsController {
  constructor(private readonly feed: EventFeed) {}

  @Get()
  list(@Query() query: EventsQueryDto): Promise<JobpulseEvent[]> {
    return this.feed.list(query.after, query.limit);
  }
}
