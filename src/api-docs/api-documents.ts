import { Injectable, type INestApplication } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { GatewayModule } from '../gateway/gateway.module.js';
import { ResumeDto } from '../gateway/resume.dto.js';
import { SubscriptionDto } from '../gateway/subscription.dto.js';
import { buildAsyncApiDocument, type AsyncApiDocument, type SocketDtoSchemas } from './asyncapi-document.js';
import { buildOpenApiDocument } from './openapi-document.js';

/**
 * The OpenAPI and AsyncAPI documents, each built when first asked for (every module's routes are
 * known by then), so that start-up does not wait for them.
 */
@Injectable()
export class ApiDocuments {
  private openApiDocument?: OpenAPIObject;
  private asyncApiDocument?: AsyncApiDocument;

  constructor(
    private readonly modules: ModulesContainer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get openApi(): OpenAPIObject {
    return (this.openApiDocument ??= buildOpenApiDocument(routedApplication(this.modules, this.adapterHost)));
  }

  get asyncApi(): AsyncApiDocument {
    return (this.asyncApiDocument ??= buildAsyncApiDocument(
      socketDtoSchemas(routedApplication(this.modules, this.adapterHost)),
    ));
  }
}

/**
 * SwaggerModule takes the application, but reads of it only its modules, its
 * HTTP adapter and its routing options (global prefix, versioning), and Nest
 * injects the first two only. createApp sets no routing options, so Nest's
 * defaults stand for them; api-docs.e2e-spec checks that the document's routes
 * are the router's.
 */
function routedApplication(modules: ModulesContainer, adapterHost: HttpAdapterHost): INestApplication {
  const readBySwagger = {
    container: { getModules: () => modules },
    config: new ApplicationConfig(),
    getHttpAdapter: () => adapterHost.httpAdapter,
  };
  return readBySwagger as unknown as INestApplication;
}

/** The gateway's DTOs as @nestjs/swagger reads their @ApiProperty, from a scan of its module (which has no routes). */
function socketDtoSchemas(app: INestApplication): SocketDtoSchemas {
  const { components } = SwaggerModule.createDocument(
    app,
    { openapi: '3.1.0', info: { title: 'socket.io messages', version: '1' } },
    { include: [GatewayModule], extraModels: [SubscriptionDto, ResumeDto] },
  );
  const schemas = components?.schemas ?? {};
  return { SubscriptionDto: schemas.SubscriptionDto, ResumeDto: schemas.ResumeDto } as SocketDtoSchemas;
}
