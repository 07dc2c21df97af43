import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn } from 'class-validator';
import { TOPICS, type Topic } from '../notifier/events.js';

/** Body of the socket.io `subscribe` and `unsubscribe` messages. */
export class SubscriptionDto {
  @IsArray({ message: 'topics must be an array of topic names' })
  @ArrayNotEmpty({ message: 'topics must name at least one topic' })
  @ArrayMaxSize(TOPICS.length * 2)
  @IsIn(TOPICS, { each: true, message: `topics may only contain ${TOPICS.join(', ')}` })
  topics: Topic[];
}
