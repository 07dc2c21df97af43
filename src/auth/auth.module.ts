import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Env } from '../config/env.js';
import { AuthGuard } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { OriginPolicy } from './origin-policy.js';

/** Sign-in and roles: the guard on every HTTP route, and the Authenticator the socket.io gateway uses too. */
@Module({
  providers: [
    Authenticator,
    { provide: OriginPolicy, inject: [Env], useFactory: (env: Env) => new OriginPolicy(env) },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Authenticator, OriginPolicy],
})
export class AuthModule {}
