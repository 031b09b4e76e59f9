'use strict';
// A shim of Auth0's custom database sandbox (docs/apis/auth0.md, "Custom
// database scripts"), to run the committed action scripts as Auth0 would:
// the script's source is evaluated in a fresh context whose globals are
// the ones the runtime provides (configuration, WrongUsernameOrPasswordError,
// UnauthorizedError when asked, fetch, AbortController, timers, console),
// its function is called with the job's arguments and a callback, and what
// the callback got is printed as JSON. Like Auth0, it stops a script after
// 20 seconds, and it reports a callback called more than once.
//
// Input (stdin, JSON): {script, function, args, configuration,
// unauthorizedError, limitMs}. Output (stdout, JSON): {calls, error:
// {name, message, userNameOrEmail} | null, profile, argc, ms, logged,
// timedOut}.

const fs = require('fs');
const vm = require('vm');

class WrongUsernameOrPasswordError extends Error {
  constructor(userNameOrEmail, message) {
    super(message);
    this.name = 'WrongUsernameOrPasswordError';
    this.userNameOrEmail = userNameOrEmail;
  }
}

class UnauthorizedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

const job = JSON.parse(fs.readFileSync(0, 'utf8'));
const logged = [];
const sandbox = {
  configuration: Object.freeze(Object.assign({}, job.configuration)),
  WrongUsernameOrPasswordError,
  fetch,
  AbortController,
  setTimeout,
  clearTimeout,
  console: { log: (...a) => logged.push(a.join(' ')), error: (...a) => logged.push(a.join(' ')) },
};
if (job.unauthorizedError) sandbox.UnauthorizedError = UnauthorizedError;
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(job.script, 'utf8'), sandbox, { filename: job.script });
const fn = sandbox[job.function];
if (typeof fn !== 'function') {
  throw new Error(job.script + ' defines no function ' + job.function);
}

const started = Date.now();
let calls = 0;
let first = null;
let reported = false;

function report(extra) {
  if (reported) return;
  reported = true;
  const out = Object.assign({ calls, ms: Date.now() - started, logged, error: null, profile: null, argc: 0, timedOut: false }, extra);
  if (first) {
    out.argc = first.argc;
    out.profile = first.profile === undefined ? null : first.profile;
    if (first.err) {
      out.error = { name: first.err.name, message: first.err.message, userNameOrEmail: first.err.userNameOrEmail === undefined ? null : first.err.userNameOrEmail };
    }
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const limit = setTimeout(() => report({ timedOut: true }), job.limitMs || 20000);
fn(...job.args, function callback(err, profile) {
  calls++;
  if (calls === 1) {
    first = { err, profile, argc: arguments.length };
    // Wait a moment: a second call is a bug the report must show.
    setTimeout(() => { clearTimeout(limit); report({}); }, 200);
  }
});
