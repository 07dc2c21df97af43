import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiStorageUnavailable, ApiValidationError } from '../api-docs/api-responses.js';
import { ref } from '../api-docs/schemas.js';
import { EventFeed } from './event-feed.js';
import type { JobpulseEvent } from './events.js';
import { EventsQueryDto } from './events.dto.js';
import { Access } from '../auth/access.decorator.js';

/** Lets a client that was disconnected catch up on the events it missed. */
@ApiTags('events')
@Controller('api/events')
@Access('viewer')
export class EventsController {
  constructor(private readonly feed: EventFeed) {}

  @Get()
  @ApiOperation({
    summary: 'Stored events after an id, oldest first, all topics',
    description:
      'How a client catches up over REST; the same events socket.io sends live (see /api/asyncapi.json). Events are kept EVENT_RETENTION_HOURS.',
  })
  @ApiOkResponse({ description: 'The events.', schema: { type: 'array', items: ref('Event') } })
  @ApiValidationError()
  @ApiStorageUnavailable()
  list(@Query() query: EventsQueryDto): Promise<JobpulseEvent[]> {
    return this.feed.list(query.after, query.limit);
  }
}
