/** The HTTP gateway of a store (docs/serve.md). */
export { serve, type Server } from './server.js';
export type { ServeOptions } from './options.js';
export { readTokenFile } from './token.js';
export { openApi, ROUTES } from './routes.js';
