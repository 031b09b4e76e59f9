'use strict';
// What every conformance script shares: its input, the redirection of the
// SDKs' traffic to the simulators, and the one JSON line it prints.
//
// The SDKs call fixed HTTPS hosts (https://<namespace>.<data center>.gigya.com,
// https://<tenant domain>) and neither takes a base URL. Rather than
// configuring the clients differently from a user's script, the helpers swap
// the destination at the last step: the gigya package's own transport
// (request.post) and the global fetch the auth0 package calls. Everything the
// SDKs build (parameters, signatures, headers, bodies, retries) is theirs.
const path = require('node:path');

// input is the JSON object the Go test passes as the first argument.
function input() {
  return JSON.parse(process.argv[2] || '{}');
}

// redirectGigya sends the gigya package's requests to base (the
// simulator's URL), keeping the method path: the package posts with
// request.post('https://accounts.us1.gigya.com/accounts.search', {form, ...}).
// A later call moves the redirection to another base.
let gigyaBase;
function redirectGigya(base) {
  const first = gigyaBase === undefined;
  gigyaBase = base;
  if (!first) return;
  // The request module the gigya package itself resolves, not one of ours.
  const request = require(require.resolve('request', { paths: [path.dirname(require.resolve('gigya'))] }));
  const post = request.post;
  request.post = function redirected(uri, options, callback) {
    const u = new URL(uri);
    if (u.protocol !== 'https:' || !/\.(gigya\.com|gigya-api\.cn)$/.test(u.hostname)) {
      throw new Error(`gigya posted to an unexpected URL ${uri}`);
    }
    return post.call(this, gigyaBase + u.pathname, options, callback);
  };
}

// redirectFetch sends fetch calls for https://<domain>/... to
// domains[domain] + /...; any other URL is refused, so that nothing leaves
// the machine.
function redirectFetch(domains) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = function redirected(resource, init) {
    const href = resource instanceof Request ? resource.url : String(resource);
    const u = new URL(href);
    const base = domains[u.host];
    if (u.protocol !== 'https:' || !base) {
      return Promise.reject(new Error(`unexpected request to ${href}`));
    }
    const target = base + u.pathname + u.search;
    return realFetch(resource instanceof Request ? new Request(target, resource) : target, init);
  };
}

// describeError keeps what the SDKs put on their errors: Gigya's errorCode
// and answer, the Management API's status, body and headers.
function describeError(err) {
  const out = { name: err && err.name, message: String(err && err.message) };
  if (err && err.errorCode !== undefined) out.errorCode = err.errorCode;
  if (err && err.gigyaResponse) out.gigyaResponse = err.gigyaResponse;
  if (err && err.statusCode !== undefined) out.statusCode = err.statusCode;
  if (err && err.body !== undefined) out.body = err.body;
  const headers = err && err.rawResponse && err.rawResponse.headers;
  if (headers && typeof headers.forEach === 'function') {
    out.headers = {};
    headers.forEach((v, k) => { out.headers[k] = v; });
  }
  return out;
}

// run runs the scenarios in order, each on its own: one that throws is
// reported as {thrown: ...} and the next still runs. It prints
// {scenario: result} as one line.
async function run(scenarios) {
  const out = {};
  for (const [name, fn] of Object.entries(scenarios)) {
    const started = Date.now();
    try {
      out[name] = { result: await fn() };
    } catch (err) {
      out[name] = { thrown: describeError(err) };
    }
    out[name].ms = Date.now() - started;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

// expectError runs fn, which must throw, and returns the error described.
async function expectError(fn) {
  try {
    await fn();
  } catch (err) {
    return describeError(err);
  }
  throw new Error('expected an error, got success');
}

module.exports = { input, redirectGigya, redirectFetch, describeError, run, expectError };
