import { jest } from '@jest/globals';
import { NewestIdThrottle } from './newest-id-throttle.js';

describe('NewestIdThrottle', () => {
  let sent: number[];
  let throttle: NewestIdThrottle;

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    throttle = new NewestIdThrottle((id) => sent.push(id), 2);
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends a lone id at once, in the next turn of the event loop', async () => {
    throttle.offer(7);
    expect(sent).toEqual([]);

    await jest.advanceTimersByTimeAsync(0);

    expect(sent).toEqual([7]);
  });

  it('sends a burst as one message with the newest id', async () => {
    [3, 5, 4].forEach((id) => throttle.offer(id));

    await jest.advanceTimersByTimeAsync(0);

    expect(sent).toEqual([5]);
  });

  it('sends a stream at most once per interval, each time with the newest id', async () => {
    throttle.offer(1);
    await jest.advanceTimersByTimeAsync(0);
    throttle.offer(2);
    throttle.offer(3);

    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([1, 3]);
  });

  it('sends at once again after a quiet interval', async () => {
    throttle.offer(1);
    await jest.advanceTimersByTimeAsync(5);
    throttle.offer(2);

    await jest.advanceTimersByTimeAsync(0);

    expect(sent).toEqual([1, 2]);
  });
});
