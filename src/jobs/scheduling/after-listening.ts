import type { HttpAdapterHost } from '@nestjs/core';

/**
 * Runs `work` once the HTTP server listens, so that a process which cannot bind its port (EADDRINUSE) has
 * recorded no run: Nest runs the bootstrap hooks before it binds. An application without HTTP (a
 * TestingModule, an application context) never listens: there `work` runs at once and its promise is
 * returned. Once listening, nothing awaits `work`, so it must report its own errors.
 */
export function afterListening(adapterHost: HttpAdapterHost, work: () => Promise<void>): Promise<void> {
  if (!adapterHost.httpAdapter || adapterHost.listening) return work();
  adapterHost.listen$.subscribe(() => void work());
  return Promise.resolve();
}
