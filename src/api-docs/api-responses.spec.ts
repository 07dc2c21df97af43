import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import { SwaggerModule, type OpenAPIObject, type OperationObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { Access } from '../auth/access.decorator.js';
import { ApiError } from './api-responses.js';
import { SHARED_SCHEMAS } from './schemas.js';

@Controller('mixed')
@Access('viewer')
class MixedController {
  @Get('read')
  read(): void {}

  @Post('write')
  @ApiError(503, 'jobpulse is shutting down.')
  @Access('operator')
  write(): void {}

  @Get('open')
  @Access('public')
  open(): void {}
}

@Controller('probe')
@Access('public')
class PublicController {
  @Get()
  probe(): void {}
}

describe('@Access in the OpenAPI document', () => {
  let app: INestApplication;
  let document: OpenAPIObject;
  const operation = (path: string, method: 'get' | 'post') =>
    document.paths[path][method] as OperationObject & { 'x-required-role'?: string };
  const described = (path: string, method: 'get' | 'post', status: string) =>
    (operation(path, method).responses[status] as { description: string } | undefined)?.description;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [MixedController, PublicController] }).compile();
    app = moduleRef.createNestApplication();
    document = SwaggerModule.createDocument(app, {
      openapi: '3.1.0',
      info: { title: 'test', version: '1' },
      components: { schemas: SHARED_SCHEMAS },
    });
  });

  afterAll(() => app.close());

  it("gives a class's routes its role: the bearer scheme, x-required-role, and the guard's and limits' answers", () => {
    expect(operation('/mixed/read', 'get')).toMatchObject({ security: [{ bearer: [] }], 'x-required-role': 'viewer' });
    expect(Object.keys(operation('/mixed/read', 'get').responses).sort()).toEqual(['401', '403', '429', '503']);
    expect(described('/mixed/read', 'get', '403')).toContain('the viewer role');
  });

  it('lets a method name its own role, once, in place of its class’s', () => {
    expect(operation('/mixed/write', 'post').security).toEqual([{ bearer: [] }]);
    expect(operation('/mixed/write', 'post')['x-required-role']).toBe('operator');
    expect(described('/mixed/write', 'post', '403')).toContain('the operator role');
  });

  it('keeps a route’s own description of a status the guard also answers', () => {
    expect(described('/mixed/write', 'post', '503')).toContain('jobpulse is shutting down.');
    expect(described('/mixed/write', 'post', '503')).toContain('AUTH_JWKS_URL');
  });

  it('documents no token, role or sign-in error on public routes, on a class or a method', () => {
    for (const [path, method] of [
      ['/mixed/open', 'get'],
      ['/probe', 'get'],
    ] as const) {
      expect(operation(path, method).security).toBeUndefined();
      expect(operation(path, method)['x-required-role']).toBeUndefined();
      expect(Object.keys(operation(path, method).responses)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(401|403|429)$/)]),
      );
    }
  });
});
