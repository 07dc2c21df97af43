import { CanActivate, ExecutionContext, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { Request } from 'express';
import { SqliteFile } from './sqlite-file.js';

/** Methods that record nothing. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses requests that would record something while the SQLite file is gone
 * or replaced (SQLite would write to the opened file, lost at exit) or its
 * disk is full: 503 saying so, instead of a 202 whose run later vanishes.
 */
@Injectable()
export class StorageWriteGuard implements CanActivate {
  constructor(@Inject(SqliteFile) private readonly file: SqliteFile | null) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.file || context.getType() !== 'http') return true;
    if (SAFE_METHODS.has(context.switchToHttp().getRequest<Request>().method)) return true;
    try {
      // Side by side: the request waits for one round trip to the file system, not two.
      await Promise.all([this.file.assertStillOpened(), this.file.assertDiskHasRoom()]);
    } catch (error) {
      throw new ServiceUnavailableException(`${(error as Error).message}; nothing was recorded`);
    }
    return true;
  }
}
