import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

/** One message for every way it can be wrong: missing, not a number, fractional, negative or unsafe. */
const IsEventId = () =>
  ValidateBy({
    name: 'isEventId',
    validator: {
      validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0,
      defaultMessage: () => 'lastEventId must be a non-negative integer',
    },
  });

/** Body of the socket.io `resume` message; also checks `auth.lastEventId` of the handshake. */
export class ResumeDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'The id of the last event handled.' })
  @IsEventId()
  lastEventId: number;
}
