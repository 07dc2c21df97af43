import { Module } from '@nestjs/common';
import { CLIENT_PEAK } from '../reports/client-peak.js';
import { ClientPresence } from './client-presence.js';

/** The gateway counts clients here; the report reads their peak through CLIENT_PEAK, without depending on the gateway. */
@Module({
  providers: [ClientPresence, { provide: CLIENT_PEAK, useExisting: ClientPresence }],
  exports: [ClientPresence, CLIENT_PEAK],
})
export class ClientPresenceModule {}
