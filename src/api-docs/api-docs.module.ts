import { Module } from '@nestjs/common';

/** The machine-readable API descriptions: OpenAPI for REST, AsyncAPI for socket.io, and Swagger UI. */
@Module({})
export class ApiDocsModule {}
