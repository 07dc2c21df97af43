import { ClientPresence } from './client-presence.js';

describe('ClientPresence', () => {
  let presence: ClientPresence;

  beforeEach(() => {
    presence = new ClientPresence();
  });

  it('starts with no clients and a peak of 0', () => {
    expect(presence.connectedNow).toBe(0);
    expect(presence.takePeak()).toBe(0);
  });

  it('counts connections and disconnections', () => {
    presence.connected();
    presence.connected();
    presence.connected();
    expect(presence.connectedNow).toBe(3);
    presence.disconnected();
    expect(presence.connectedNow).toBe(2);
  });

  it('never goes below zero', () => {
    presence.disconnected();
    expect(presence.connectedNow).toBe(0);
    presence.connected();
    presence.disconnected();
    presence.disconnected();
    expect(presence.connectedNow).toBe(0);
    presence.connected();
    expect(presence.connectedNow).toBe(1);
  });

  it('takePeak returns the highest count since the last call, even after clients left', () => {
    presence.connected();
    presence.connected();
    presence.connected();
    presence.disconnected();
    presence.disconnected();
    expect(presence.connectedNow).toBe(1);
    expect(presence.takePeak()).toBe(3);
  });

  it('takePeak resets the peak to the clients connected now', () => {
    presence.connected();
    presence.connected();
    presence.connected();
    presence.disconnected();
    expect(presence.takePeak()).toBe(3);
    // No change since: the next period's peak is the 2 still connected.
    expect(presence.takePeak()).toBe(2);
    presence.disconnected();
    presence.disconnected();
    expect(presence.takePeak()).toBe(2);
    expect(presence.takePeak()).toBe(0);
  });

  it('tracks a new peak after a reset', () => {
    presence.connected();
    presence.takePeak();
    presence.connected();
    presence.connected();
    presence.disconnected();
    expect(presence.takePeak()).toBe(3);
    expect(presence.connectedNow).toBe(2);
  });
});
