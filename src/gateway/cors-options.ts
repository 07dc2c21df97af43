import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface.js';
import type { Env } from '../config/env.js';

/** The one CORS policy, from CORS_ORIGINS, for REST and for socket.io, which gateway decorators cannot read from the environment. */
export function corsOptions(env: Env): CorsOptions {
  const origins = env.CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  return { origin: origins.includes('*') ? true : origins };
}
