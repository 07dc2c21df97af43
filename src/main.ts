import 'reflect-metadata';
import module from 'node:module';

/**
 * Node 22.1 and later (the image runs Node 24) keep V8's compiled code of every module loaded from
 * here on in a cache under the system's temporary folder: a restart of the same container compiles
 * less. Earlier Nodes have no such cache. Enabled before the application's modules are imported.
 */
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { bootstrap } = await import('./bootstrap.js');

void bootstrap();
