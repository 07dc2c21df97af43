import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { NotifierModule } from '../notifier/notifier.module.js';
import { ClientPresenceModule } from './client-presence.module.js';
import { ConfiguredIoAdapter } from './configured-io.adapter.js';
import { EventsGateway } from './events.gateway.js';
import { SocketAdmission } from './socket-admission.js';

@Module({
  imports: [AuthModule, NotifierModule, ClientPresenceModule, MetricsModule],
  providers: [EventsGateway, ConfiguredIoAdapter, SocketAdmission],
})
export class GatewayModule {}
