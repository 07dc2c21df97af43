import { Module } from '@nestjs/common';
import { NotifierModule } from '../notifier/notifier.module.js';
import { ClientPresenceModule } from './client-presence.module.js';
import { ConfiguredIoAdapter } from './configured-io.adapter.js';
import { EventsGateway } from './events.gateway.js';

@Module({
  imports: [NotifierModule, ClientPresenceModule],
  providers: [EventsGateway, ConfiguredIoAdapter],
})
export class GatewayModule {}
