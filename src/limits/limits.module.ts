import { Module } from '@nestjs/common';

/** REST rate limits: a budget of reads and one of writes per client and minute. */
@Module({})
export class LimitsModule {}
