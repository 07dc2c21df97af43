// Baseline for REST: a bare NestJS application (the same @nestjs/core and Express platform
// jobpulse runs on) with one controller answering the JSON jobpulse answered, read from a file
// once: no guards, no validation, no database, no request log, no helmet.
// Plain JavaScript has no decorator syntax: the decorators are applied by hand (Reflect.decorate).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { restFixture } from './bare-rest.mjs';

class BareController {
  jobs() {
    return restFixture.jobs;
  }
  runs() {
    return restFixture.runs;
  }
  ready() {
    return { status: 'ok' };
  }
}
for (const [method, path] of [
  ['jobs', 'api/jobs'],
  ['runs', 'api/jobs/:name/runs'],
  ['ready', 'health/ready'],
]) {
  const descriptor = Object.getOwnPropertyDescriptor(BareController.prototype, method);
  Object.defineProperty(
    BareController.prototype,
    method,
    Reflect.decorate([Get(path)], BareController.prototype, method, descriptor) ?? descriptor,
  );
}
Controller()(BareController);

class BareModule {}
Module({ controllers: [BareController] })(BareModule);

const app = await NestFactory.create(BareModule, { logger: false });
await app.listen(Number(process.env.PORT), process.env.HOST);
