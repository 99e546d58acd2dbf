import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import { openApiDocument } from '../contract/document.ts';
import { routesOn } from '../contract/route.ts';
import { serviceApi } from './service.ts';

/**
 * The OpenAPI document and an interactive reference (Swagger UI). Both are public: they
 * describe the API, they hold no data. The reference's files come from the installed
 * swagger-ui-dist package, not from the web app's bundle, and it loads nothing from
 * elsewhere (no CDN, no online validator).
 */

const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The only files of the package the page loads. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

// Relative URLs, so the page works under a proxy's path prefix too. No inline script: the
// page's CSP (the web app's) allows scripts from this origin only.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WUZAPI Manager API reference</title>
<link rel="icon" href="docs/favicon-32x32.png">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
const INIT = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
});
`;

export function apiDocsRoutes(): Router {
  const router = Router();
  const on = routesOn(router, '/api');
  on(serviceApi.document, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json(openApiDocument());
  });
  on(serviceApi.reference, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('js').send(INIT);
  });
  router.get('/docs/:file', (req, res, next) => {
    if (!ASSETS.includes(req.params.file)) return next();
    res.sendFile(path.join(swaggerUiDir, req.params.file), { maxAge: '1d' });
  });
  return router;
}
