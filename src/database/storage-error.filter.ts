import { ArgumentsHost, Catch, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { storageProblemOf } from './storage-error.js';

/** How long a client should wait before trying again. */
const RETRY_AFTER_SECONDS = 30;

/**
 * A request that failed because the database cannot store or read (disk
 * full, file gone, server unreachable) answers 503 naming the problem, with
 * Retry-After, instead of a bare 500; what was recorded before stays intact.
 * Every other error goes to Nest's own handling.
 */
@Catch()
export class StorageErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Storage');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const problem = host.getType() === 'http' ? storageProblemOf(exception) : undefined;
    if (problem === undefined) return super.catch(exception, host);
    const request = host.switchToHttp().getRequest<Request>();
    this.logger.error({
      msg: 'request failed: database unusable',
      method: request.method,
      path: request.path,
      problem,
    });
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .setHeader('Retry-After', String(RETRY_AFTER_SECONDS))
      .json({
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: `${problem}; nothing was recorded`,
      });
  }
}
