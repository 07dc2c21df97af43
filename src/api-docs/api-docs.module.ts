import { Module } from '@nestjs/common';
import { ApiDocsController } from './api-docs.controller.js';
import { ApiDocuments } from './api-documents.js';

/**
 * The machine-readable API descriptions: OpenAPI for REST at /api/docs-json
 * (with Swagger UI at /api/docs) and AsyncAPI for socket.io at /api/asyncapi.json.
 */
@Module({
  controllers: [ApiDocsController],
  providers: [ApiDocuments],
})
export class ApiDocsModule {}
