import type { IncomingMessage } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

/**
 * Makes a request that is not traced cost (almost) nothing. The HTTP instrumentation's
 * own way to skip a request still runs it in a context of its own and binds the request
 * and response emitters to it: eight methods defined on each of the two objects, which
 * V8 then handles as slow dictionaries for the rest of the request. The Express
 * instrumentation's layer wrapper stores the layer path and rebuilds the route on every
 * one of ~20 layers before it asks whether there is a span to make. For a request with no
 * span, neither does anything useful, so:
 *
 * - a request not to trace goes straight to the server's own `emit` (no context, no
 *   binding, no span: Redis, PostgreSQL and fetch spans need a parent, so none either);
 * - an Express layer outside a traced request calls its original handler.
 *
 * Both hook methods these instrumentations keep for their own use (`_incomingRequestFunction`,
 * `_applyPatch`); the versions are pinned exactly (package.json), and test/unit/tracing
 * checks that both methods still exist. Measured by `npm run bench:tracing`.
 */
type Handler = (this: unknown, ...args: unknown[]) => unknown;

interface HttpInternals {
  _incomingRequestFunction(component: string, original: Handler): Handler;
}

interface ExpressInternals {
  _applyPatch(layer: { handle: Handler }, layerPath?: string): void;
}

export const httpInternals = HttpInstrumentation.prototype as unknown as HttpInternals;
export const expressInternals = ExpressInstrumentation.prototype as unknown as ExpressInternals;

/**
 * Installs both shortcuts; `traced(request)` is asked once per request, as it arrives.
 * It is the only way a request is left untraced (the instrumentation's ignore hook is not
 * used), so a missing internal is an error at start-up, never a silent full tracing.
 */
export function installFastPaths(traced: (request: IncomingMessage) => boolean): void {
  const buildIncoming = httpInternals._incomingRequestFunction;
  const applyPatch = expressInternals._applyPatch;
  if (typeof buildIncoming !== 'function' || typeof applyPatch !== 'function') {
    throw new Error('tracing: the pinned http/express instrumentations lack the hooks fastPath.ts wraps');
  }
  httpInternals._incomingRequestFunction = function (component, original) {
    const instrumented = buildIncoming.call(this, component, original);
    return function (this: unknown, event: unknown, ...args: unknown[]) {
      if (event === 'request' && !traced(args[0] as IncomingMessage))
        return original.call(this, event, ...args);
      return instrumented.call(this, event, ...args);
    };
  };

  expressInternals._applyPatch = function (layer, layerPath) {
    const before = layer.handle;
    applyPatch.call(this, layer, layerPath);
    const patched = layer.handle;
    // Not wrapped (an error handler keeps its four arguments unwrapped, or it was already).
    if (patched === before) return;
    const fast: Handler = function (this: unknown, ...args: unknown[]) {
      return trace.getSpan(context.active()) ? patched.apply(this, args) : before.apply(this, args);
    };
    // Express reads a handler's arity; shimmer's markers let the instrumentation unwrap it.
    Object.defineProperty(fast, 'length', { value: patched.length });
    for (const marker of ['__original', '__unwrap', '__wrapped'] as const) {
      const value = (patched as unknown as Record<string, unknown>)[marker];
      if (value !== undefined) Object.defineProperty(fast, marker, { value, configurable: true });
    }
    layer.handle = fast;
  };
}
