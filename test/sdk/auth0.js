'use strict';
// Drives the Auth0 simulator through the npm package auth0 (7.x): its
// ManagementClient, which fetches its own client-credentials token, and the
// v4 API that 7.x still ships as auth0/legacy (AuthenticationClient and the
// older ManagementClient with connections.getAll). A client-credentials
// token, connection lookups, an import job created, polled to completion
// and its errors read, the imported users looked up by email, id and
// search, and the Management API's errors as the SDK surfaces them.
// Input: see auth0_test.go (auth0Input).
const { ManagementClient } = require('auth0');
const legacy = require('auth0/legacy');
const { input, redirectFetch, run, expectError } = require('./lib/harness');

const cfg = input();
redirectFetch({ [cfg.domain]: cfg.base, [cfg.limitedDomain]: cfg.limitedBase });

const creds = { domain: cfg.domain, clientId: cfg.clientId, clientSecret: cfg.clientSecret };
const mgmt = new ManagementClient(creds);
const auth = new legacy.AuthenticationClient(creds);
const legacyMgmt = new legacy.ManagementClient(creds);

// connection keeps what the scenarios compare.
const connection = (c) => ({ id: c.id, name: c.name, strategy: c.strategy });

// waitForJob polls the job until it is completed or failed, within the
// deadline the test gives.
async function waitForJob(id) {
  const deadline = Date.now() + cfg.jobDeadlineMs;
  let polls = 0;
  for (;;) {
    const job = await mgmt.jobs.get(id);
    polls++;
    if (job.status === 'completed' || job.status === 'failed') return { job, polls };
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${cfg.jobDeadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, cfg.pollIntervalMs));
  }
}


run({
  tokenLegacyAuthenticationClient: async () => {
    const res = await auth.oauth.clientCredentialsGrant({ audience: `https://${cfg.domain}/api/v2/` });
    const t = res.data;
    return { hasToken: typeof t.access_token === 'string' && t.access_token.length > 0, tokenType: t.token_type, expiresIn: t.expires_in, scope: t.scope };
  },
  connectionsListByName: async () => {
    const page = await mgmt.connections.list({ name: cfg.connection });
    return page.data.map(connection);
  },
  connectionsListAllPages: async () => {
    // take 2: the SDK follows next from page to page.
    const names = [];
    for await (const c of await mgmt.connections.list({ take: 2 })) names.push(c.name);
    return names;
  },
  connectionsListByStrategy: async () => {
    const page = await mgmt.connections.list({ strategy: ['auth0'] });
    return page.data.map((c) => c.name);
  },
  connectionsGetAllLegacy: async () => {
    const byName = await legacyMgmt.connections.getAll({ name: cfg.connection });
    const totals = await legacyMgmt.connections.getAll({ include_totals: true, page: 1, per_page: 2 });
    return {
      byName: byName.data.map(connection),
      totals: { start: totals.data.start, limit: totals.data.limit, total: totals.data.total, names: totals.data.connections.map((c) => c.name) },
    };
  },
  importJob: async () => {
    const conns = await mgmt.connections.list({ name: cfg.connection });
    const created = await mgmt.jobs.usersImports.create({
      users: { data: Buffer.from(JSON.stringify(cfg.users)), filename: 'users.json', contentType: 'application/json' },
      connection_id: conns.data[0].id,
      upsert: false,
      external_id: 'sdk-conformance',
      send_completion_email: false,
    });
    const { job: done, polls } = await waitForJob(created.id);
    const errors = await mgmt.jobs.errors.get(created.id);
    return { created, final: done, polls, errors };
  },
  userByEmail: async () => mgmt.users.listUsersByEmail({ email: cfg.lookupEmail }),
  userByEmailWithCapitals: async () => mgmt.users.listUsersByEmail({ email: cfg.lookupEmail.toUpperCase() }),
  userById: async () => mgmt.users.get(cfg.lookupUserId),
  userSearchByEmail: async () => {
    const page = await mgmt.users.list({ q: `email:"${cfg.lookupEmail.toUpperCase()}"`, search_engine: 'v3' });
    return page.data;
  },
  userSearchByIdentity: async () => {
    const page = await mgmt.users.list({ q: `identities.user_id:"${cfg.lookupUserId.replace(/^auth0\|/, '')}"`, search_engine: 'v3' });
    return page.data.map((u) => u.user_id);
  },
  userSearchAllPages: async () => {
    // per_page 2: the SDK asks for page after page until one comes back short.
    const ids = [];
    for await (const u of await mgmt.users.list({ q: `identities.connection:"${cfg.connection}"`, search_engine: 'v3', per_page: 2 })) ids.push(u.user_id);
    return ids;
  },
  userNotFound: () => expectError(() => mgmt.users.get('auth0|nobody-here')),
  badQuery: () => expectError(() => mgmt.users.list({ q: 'email:jane*', search_engine: 'v3' })),
  invalidToken: () => expectError(() => new ManagementClient({ domain: cfg.domain, token: 'not-a-token' }).users.get(cfg.lookupUserId)),
  insufficientScope: async () => {
    const res = await auth.oauth.clientCredentialsGrant({ audience: `https://${cfg.domain}/api/v2/`, scope: 'read:connections' });
    const narrow = new ManagementClient({ domain: cfg.domain, token: res.data.access_token });
    return expectError(() => narrow.users.get(cfg.lookupUserId));
  },
  rateLimitedRetried: async () => {
    // The second tenant refills one request per second: the second call
    // gets a 429, and the SDK waits for x-ratelimit-reset and retries.
    const limited = new ManagementClient({ ...creds, domain: cfg.limitedDomain });
    await limited.connections.list({ name: cfg.connection });
    const page = await limited.connections.list({ name: cfg.connection });
    return page.data.map(connection);
  },
  rateLimitedNoRetry: async () => {
    const limited = new ManagementClient({ ...creds, domain: cfg.limitedDomain, maxRetries: 0 });
    await limited.connections.list({ name: cfg.connection }).catch(() => {});
    return expectError(() => limited.connections.list({ name: cfg.connection }));
  },
});
