import { MAX_PAYLOAD_DEPTH, MessageBudget, packetProblem } from './message-gate.js';

describe('MessageBudget', () => {
  it('allows a burst of perSecond messages, then refuses until time refills it', () => {
    let now = 0;
    const budget = new MessageBudget(3, () => now);

    expect([budget.take(), budget.take(), budget.take()].every((admission) => admission.ok)).toBe(true);
    expect(budget.take()).toEqual({
      ok: false,
      error: 'too many messages: at most 3 per second (SOCKET_MESSAGES_PER_SECOND)',
      disconnect: false,
    });

    now += 334;
    expect(budget.take().ok).toBe(true);
    expect(budget.take().ok).toBe(false);
  });

  it('never saves up more than one burst', () => {
    let now = 0;
    const budget = new MessageBudget(2, () => now);
    now += 60_000;

    expect([budget.take(), budget.take(), budget.take()].map((admission) => admission.ok)).toEqual([true, true, false]);
  });

  it('calls a socket flooding once it has been refused five seconds’ worth of messages in a row', () => {
    const budget = new MessageBudget(2, () => 0);
    budget.take();
    budget.take();

    const refusals = Array.from({ length: 11 }, () => budget.take());

    expect(refusals.slice(0, 10).some((admission) => !admission.ok && admission.disconnect)).toBe(false);
    expect(refusals[10]).toMatchObject({ ok: false, disconnect: true });
  });

  it('forgives refusals once a message is accepted again', () => {
    let now = 0;
    const budget = new MessageBudget(1, () => now);
    budget.take();
    for (let i = 0; i < 5; i++) budget.take();
    now += 1000;
    budget.take();

    const refusals = Array.from({ length: 5 }, () => budget.take());

    expect(refusals.every((admission) => !admission.ok && !admission.disconnect)).toBe(true);
  });
});

describe('packetProblem', () => {
  const nested = (depth: number): unknown => (depth === 0 ? 'jobs' : { topics: [nested(depth - 1)] });

  it.each([
    ['subscribe', [{ topics: ['jobs'] }, () => undefined]],
    ['unsubscribe', [{ topics: ['jobs', 'reports'] }]],
    ['resume', [{ lastEventId: 4 }]],
  ])('accepts %s', (name, args) => {
    expect(packetProblem([name, ...args])).toBeUndefined();
  });

  it('names an unknown message and the ones that exist', () => {
    expect(packetProblem(['subscrbe', { topics: ['jobs'] }])).toBe(
      'unknown message "subscrbe": send subscribe, unsubscribe, resume',
    );
  });

  it('does not echo a long unknown name in full', () => {
    expect(packetProblem(['x'.repeat(10_000)])!.length).toBeLessThan(200);
  });

  it('refuses a payload nested 5,000 levels deep without overflowing the stack', () => {
    let payload: unknown = 'jobs';
    for (let i = 0; i < 5000; i++) payload = [payload];

    expect(packetProblem(['subscribe', { topics: payload }])).toBe(
      `the message is nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    );
  });

  it('draws the line just past the depth limit', () => {
    // nested(n) is 2n levels of objects and arrays.
    expect(packetProblem(['subscribe', nested(MAX_PAYLOAD_DEPTH / 2)])).toBeUndefined();
    expect(packetProblem(['subscribe', nested(MAX_PAYLOAD_DEPTH / 2 + 1)])).toBeDefined();
  });
});
