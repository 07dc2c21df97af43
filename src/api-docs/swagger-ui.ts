import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OPENAPI_PATH } from './openapi-document.js';

export const SWAGGER_UI_PATH = '/api/docs';

/** The Swagger UI files @nestjs/swagger ships with (swagger-ui-dist, its dependency), resolved from where it is installed. */
const fromSwaggerModule = createRequire(createRequire(import.meta.url).resolve('@nestjs/swagger'));
const SWAGGER_UI_DIST = dirname(fromSwaggerModule.resolve('swagger-ui-dist/package.json'));

/** The files the page loads, by name: the only ones served. */
export const SWAGGER_UI_ASSETS: Record<string, { path: string; type: string }> = Object.fromEntries(
  [
    ['swagger-ui.css', 'text/css; charset=utf-8'],
    ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
    ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
    ['favicon-32x32.png', 'image/png'],
    ['favicon-16x16.png', 'image/png'],
  ].map(([name, type]) => [name, { path: join(SWAGGER_UI_DIST, name), type }]),
);

export const SWAGGER_UI_INIT = 'swagger-ui-init.js';

/**
 * Starts Swagger UI on the OpenAPI document. A file of its own rather than an
 * inline script, so that the page's CSP can keep `script-src 'self'`.
 */
export const SWAGGER_UI_INIT_SCRIPT = `window.addEventListener('load', () => {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_PATH}',
    dom_id: '#swagger-ui',
    deepLinking: true,
    showExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
});
`;

export const SWAGGER_UI_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>jobpulse REST API</title>
    <link rel="stylesheet" href="${SWAGGER_UI_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${SWAGGER_UI_PATH}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${SWAGGER_UI_PATH}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${SWAGGER_UI_PATH}/swagger-ui-bundle.js"></script>
    <script src="${SWAGGER_UI_PATH}/swagger-ui-standalone-preset.js"></script>
    <script src="${SWAGGER_UI_PATH}/${SWAGGER_UI_INIT}"></script>
  </body>
</html>
`;

/**
 * The page's own policy, in place of helmet's default for an API: everything
 * from this origin, no inline script; inline styles, which Swagger UI sets;
 * data: images (its icons). Without helmet's upgrade-insecure-requests, which
 * would send a browser reading the page over plain HTTP (inside a cluster) to
 * fetch its scripts over HTTPS, where nothing answers.
 */
export const SWAGGER_UI_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');
