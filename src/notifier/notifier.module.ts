import { Global, Module } from '@nestjs/common';
import { ClientPresence } from './client-presence.service.js';
import { EventsController } from './events.controller.js';
import { NotifierService } from './notifier.service.js';

@Global()
@Module({
  controllers: [EventsController],
  providers: [NotifierService, ClientPresence],
  exports: [NotifierService, ClientPresence],
})
export class NotifierModule {}
