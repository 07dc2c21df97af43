import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn } from 'class-validator';
import { TOPICS, type Topic } from '../notifier/events.js';

/** Body of the socket.io `subscribe` and `unsubscribe` messages. */
export class SubscriptionDto {
  @ApiProperty({
    enum: TOPICS,
    isArray: true,
    minItems: 1,
    maxItems: TOPICS.length * 2,
    description: 'The topics, at least one.',
  })
  @IsArray({ message: 'topics must be an array of topic names' })
  @ArrayNotEmpty({ message: 'topics must name at least one topic' })
  @ArrayMaxSize(TOPICS.length * 2)
  @IsIn(TOPICS, { each: true, message: `topics may only contain ${TOPICS.join(', ')}` })
  topics: Topic[];
}
