import { afterAll } from 'vitest';
import { openApiDocument } from '../../src/daemon/api/contract/document.ts';
import { contractChecker, isContractPath, isExemptFromContract } from '../helpers/contract.ts';

/**
 * Every response the node tests receive through fetch() from the daemon's API is checked
 * against the OpenAPI document (status documented, media type and body as documented):
 * a contract that drifts fails the test that saw it. Streams are read from a clone, so the
 * test reads its response as it would have.
 */
const check = contractChecker(openApiDocument());
const original = globalThis.fetch;
let checked = 0;

globalThis.fetch = async function checkedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit) {
  const response = await original(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  const isLocal = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (!isLocal || !isContractPath(url.pathname) || isExemptFromContract()) return response;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const body = method.toUpperCase() === 'HEAD' ? '' : await response.clone().text();
  const problems = check({
    method,
    pathname: url.pathname,
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  });
  checked++;
  if (problems.length > 0) {
    throw new Error(`the response breaks the OpenAPI contract:\n  ${problems.join('\n  ')}`);
  }
  return response;
};

afterAll(() => {
  if (process.env.WUZ_CONTRACT_REPORT) console.log(`contract: ${checked} responses checked`);
});
