import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ACCESS_METADATA, type AccessLevel, type Principal } from './access.decorator.js';
import { Authenticator, bearerTokenOf, MissingTokenError } from './authenticator.js';
import { OriginPolicy } from './origin-policy.js';
import { InvalidTokenError } from './token-verifier.js';

export type AuthenticatedRequest = Request & { user?: Principal };

/** Methods that change nothing: CORS already keeps their answers from other sites. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every HTTP route: refuses it unless it declares `@Access`, then checks the
 * bearer token and the role it needs. Socket.io handshakes are checked by the
 * gateway with the same Authenticator.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly origins: OriginPolicy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const level = this.reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (level === undefined) throw new ForbiddenException('this route declares no @Access, so it is closed');
    if (level === 'public') return true;
    if (!SAFE_METHODS.has(request.method) && !this.origins.allows(request.headers.origin, request.headers.host))
      throw new ForbiddenException(`requests from origin ${request.headers.origin} are not allowed (CORS_ORIGINS)`);
    const response = context.switchToHttp().getResponse<Response>();
    request.user = await this.principalOf(request, response);
    if (!request.user.roles.has(level))
      throw new ForbiddenException(`this needs the ${level} role, which the token does not grant`);
    return true;
  }

  private async principalOf(request: Request, response: Response): Promise<Principal> {
    try {
      return await this.authenticator.authenticate(bearerTokenOf(request.headers.authorization));
    } catch (error) {
      if (error instanceof MissingTokenError) {
        response.setHeader('WWW-Authenticate', 'Bearer realm="jobpulse"');
        throw new UnauthorizedException('sign in: send Authorization: Bearer <token>');
      }
      if (error instanceof InvalidTokenError) {
        response.setHeader(
          'WWW-Authenticate',
          `Bearer realm="jobpulse", error="invalid_token", error_description="${error.reason}"`,
        );
        throw new UnauthorizedException(error.reason);
      }
      throw new ServiceUnavailableException((error as Error).message);
    }
  }
}
