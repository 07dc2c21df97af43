import { HttpAdapterHost, type AbstractHttpAdapter } from '@nestjs/core';
import { afterListening } from './after-listening.js';

describe('afterListening', () => {
  let done: string[];
  const work = (name: string) => () => {
    done.push(name);
    return Promise.resolve();
  };

  beforeEach(() => {
    done = [];
  });

  function hostWithServer(): HttpAdapterHost {
    const host = new HttpAdapterHost();
    host.httpAdapter = {} as AbstractHttpAdapter;
    return host;
  }

  it('waits until the HTTP server listens, then runs the work once', async () => {
    const host = hostWithServer();

    await afterListening(host, work('report'));
    expect(done).toEqual([]);
    host.listening = true;
    host.listening = false;
    host.listening = true;

    expect(done).toEqual(['report']);
  });

  it('never runs the work when the server never listens (it failed to bind)', async () => {
    const host = hostWithServer();

    await afterListening(host, work('report'));

    expect(done).toEqual([]);
  });

  it('runs the work at once in an application without HTTP, and resolves once it is done', async () => {
    await afterListening(new HttpAdapterHost(), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      done.push('catch-up');
    });

    expect(done).toEqual(['catch-up']);
  });

  it('runs the work at once when the server is already listening', async () => {
    const host = hostWithServer();
    host.listening = true;

    await afterListening(host, work('late'));

    expect(done).toEqual(['late']);
  });
});
