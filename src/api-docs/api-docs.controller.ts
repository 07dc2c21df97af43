import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import { createReadStream } from 'node:fs';
import { Access } from '../auth/access.decorator.js';
import { ApiError } from './api-responses.js';
import { ApiDocuments } from './api-documents.js';
import type { AsyncApiDocument } from './asyncapi-document.js';
import {
  SWAGGER_UI_ASSETS,
  SWAGGER_UI_CSP,
  SWAGGER_UI_INIT,
  SWAGGER_UI_INIT_SCRIPT,
  SWAGGER_UI_PAGE,
} from './swagger-ui.js';

/** The descriptions are public: a client reads them before it has a token. */
@ApiTags('api-docs')
@Controller('api')
@Access('public')
export class ApiDocsController {
  constructor(private readonly documents: ApiDocuments) {}

  @Get('docs-json')
  @ApiOperation({ summary: 'This OpenAPI 3.1 document' })
  @ApiOkResponse({ description: 'The REST API.', schema: { type: 'object' } })
  openApi(): OpenAPIObject {
    return this.documents.openApi;
  }

  @Get('asyncapi.json')
  @ApiOperation({ summary: 'The AsyncAPI 3.0 document of the socket.io protocol' })
  @ApiOkResponse({ description: 'The live events and the messages a client sends.', schema: { type: 'object' } })
  asyncApi(): AsyncApiDocument {
    return this.documents.asyncApi;
  }

  @Get('docs')
  @ApiOperation({ summary: 'Swagger UI on this document' })
  @ApiOkResponse({ description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', SWAGGER_UI_CSP)
  page(): string {
    return SWAGGER_UI_PAGE;
  }

  @Get('docs/:file')
  @ApiOperation({ summary: "A file of Swagger UI's page" })
  @ApiParam({ name: 'file', description: 'A script, stylesheet or icon the page names.' })
  @ApiOkResponse({ description: 'The file.', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } })
  @ApiError(404, 'The page names no such file.')
  asset(@Param('file') file: string): StreamableFile {
    if (file === SWAGGER_UI_INIT)
      return new StreamableFile(Buffer.from(SWAGGER_UI_INIT_SCRIPT), { type: 'text/javascript; charset=utf-8' });
    const asset = Object.hasOwn(SWAGGER_UI_ASSETS, file) ? SWAGGER_UI_ASSETS[file] : undefined;
    if (!asset) throw new NotFoundException(`Swagger UI has no file "${file}"`);
    return new StreamableFile(createReadStream(asset.path), { type: asset.type });
  }
}
