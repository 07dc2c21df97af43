import { Controller, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Access } from '../auth/access.decorator.js';
import { CountsAsWrite } from './counts-as-write.decorator.js';
import { rateLimitTierOf, tierFor } from './rate-limit-tier.js';

describe('tierFor', () => {
  it.each([
    ['public', false, 'exempt'],
    ['public', true, 'exempt'],
    ['operator', false, 'writes'],
    ['operator', true, 'writes'],
    ['viewer', true, 'writes'],
    ['viewer', false, 'reads'],
    [undefined, false, 'reads'],
  ] as const)('gives a %s route (counts as a write: %s) the tier %s', (level, countsAsWrite, tier) => {
    expect(tierFor(level, countsAsWrite)).toBe(tier);
  });
});

describe('rateLimitTierOf', () => {
  @Controller('jobs')
  @Access('viewer')
  class JobsLike {
    list(): void {}

    @Access('operator')
    trigger(): void {}

    @CountsAsWrite()
    preview(): void {}
  }

  @Controller('health')
  @Access('public')
  class ProbesLike {
    live(): void {}
  }

  const reflector = new Reflector();
  const contextOf = <T>(type: Type<T>, method: keyof T & string): ExecutionContext =>
    new ExecutionContextHost([{}, {}], type, type.prototype[method] as () => void);

  it("reads the class's @Access when the method has none", () => {
    expect(rateLimitTierOf(reflector, contextOf(JobsLike, 'list'))).toBe('reads');
    expect(rateLimitTierOf(reflector, contextOf(ProbesLike, 'live'))).toBe('exempt');
  });

  it("takes the method's @Access over its class's", () => {
    expect(rateLimitTierOf(reflector, contextOf(JobsLike, 'trigger'))).toBe('writes');
  });

  it('counts a read marked @CountsAsWrite as a write', () => {
    expect(rateLimitTierOf(reflector, contextOf(JobsLike, 'preview'))).toBe('writes');
  });
});
