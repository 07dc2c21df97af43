import { controllerRouteOf } from './route-template.js';

describe('controllerRouteOf', () => {
  it('is the template of the controller route, under the router it is mounted on', () => {
    expect(
      controllerRouteOf({ baseUrl: '', route: { path: '/api/jobs/:name/trigger', methods: { post: true } } }),
    ).toBe('/api/jobs/:name/trigger');
    expect(controllerRouteOf({ baseUrl: '/admin', route: { path: '/runs/:id', methods: { get: true } } })).toBe(
      '/admin/runs/:id',
    );
  });

  it('is undefined when no route answered', () => {
    expect(controllerRouteOf({ baseUrl: '' })).toBeUndefined();
  });

  it('is undefined for the catch-all route Nest mounts middleware on', () => {
    const everyMethod = Object.fromEntries(['get', 'post', 'delete', 'put'].map((method) => [method, true]));

    expect(controllerRouteOf({ baseUrl: '', route: { path: '{/*splat}', methods: everyMethod } })).toBeUndefined();
  });
});
