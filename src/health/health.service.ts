import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { redactCredentials } from '../config/env.js';
import { HealthRepository } from '../database/health.repository.js';

@Injectable()
export class HealthService {
  constructor(private readonly database: HealthRepository) {}

  /** 503 naming the database's error while it does not answer. */
  async check(): Promise<{ status: 'ok' }> {
    try {
      await this.database.ping();
    } catch (error) {
      throw new ServiceUnavailableException(`database does not answer: ${redactCredentials((error as Error).message)}`);
    }
    return { status: 'ok' };
  }
}
