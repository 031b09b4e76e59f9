'use strict';
// Drives the Gigya simulator through the npm package gigya (3.x): cursor
// paging of accounts.search, accounts.login, the three ways a server
// authenticates (partner secret, a user key signing its requests, a user
// key's RSA key), and a rate limit. Input: see gigya_test.go (gigyaInput).
const { Gigya } = require('gigya');
const { input, redirectGigya, run, expectError } = require('./lib/harness');

const cfg = input();
redirectGigya(cfg.base);

// searchAll pages through every account with a cursor: openCursor on the
// first call, then the previous answer's nextCursorId, until a page comes
// back without one or empty.
async function searchAll(gigya) {
  const uids = [];
  const pages = [];
  let res = await gigya.accounts.search({ query: `SELECT UID FROM accounts LIMIT ${cfg.pageSize}`, openCursor: true });
  const totalCount = res.totalCount;
  for (;;) {
    pages.push(res.results.length);
    for (const a of res.results) uids.push(a.UID);
    if (!res.nextCursorId || res.results.length === 0) break;
    res = await gigya.accounts.search({ cursorId: res.nextCursorId });
  }
  return { uids, pages, totalCount };
}

const partner = new Gigya(cfg.apiKey, 'us1', cfg.secret);
const signed = new Gigya(cfg.apiKey, 'us1', cfg.userKey, cfg.userSecret);
const wrongSecret = new Gigya(cfg.apiKey, 'us1', cfg.userKey, cfg.wrongSecret);
const bearer = new Gigya(cfg.apiKey, 'us1', { userKey: cfg.rsaUserKey, privateKey: cfg.rsaPrivateKey });

run({
  searchPartnerSecret: () => searchAll(partner),
  loginRight: async () => {
    const res = await partner.accounts.login({ loginID: cfg.loginID, password: cfg.password });
    return { errorCode: res.errorCode, UID: res.UID, email: res.profile && res.profile.email };
  },
  loginWrong: () => expectError(() => partner.accounts.login({ loginID: cfg.loginID, password: cfg.password + '-wrong' })),
  searchSigned: () => searchAll(signed),
  loginSigned: async () => {
    const res = await signed.accounts.login({ loginID: cfg.loginID, password: cfg.password });
    return { errorCode: res.errorCode, UID: res.UID };
  },
  signedWrongSecret: () => expectError(() => wrongSecret.accounts.search({ query: 'SELECT UID FROM accounts' })),
  signedClockBehind: async () => {
    // A client whose clock is 10 minutes slow: the SDK signs with
    // Date.now(), so the timestamp it sends is 10 minutes old.
    const now = Date.now;
    Date.now = () => now() - 10 * 60 * 1000;
    try {
      return await expectError(() => signed.accounts.search({ query: 'SELECT UID FROM accounts' }));
    } finally {
      Date.now = now;
    }
  },
  signedFalseParameter: () =>
    // The SDK signs (value || '') so false is signed as an empty string
    // while the form carries "false": the signature cannot verify.
    expectError(() => signed.accounts.search({ query: 'SELECT UID FROM accounts', httpStatusCodes: false })),
  searchBearer: () => searchAll(bearer),
  rateLimited: async () => {
    // The second site allows one search per second: the second search in a
    // row gets 403048, which the package throws at once.
    const limited = new Gigya(cfg.apiKey, 'us1', cfg.secret);
    redirectGigya(cfg.limitedBase);
    try {
      await limited.accounts.search({ query: 'SELECT UID FROM accounts' });
      return await expectError(() => limited.accounts.search({ query: 'SELECT UID FROM accounts' }));
    } finally {
      redirectGigya(cfg.base);
    }
  },
});
