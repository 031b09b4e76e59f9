/*
 * Auth0 custom database action script "Get User", for login-time migration
 * from SAP Customer Data Cloud (Gigya) with gigya-migrate.
 *
 * Paste it as the connection's Get User script, beside configs/auth0-login.js
 * (same connection settings). Auth0 runs it for a user it does not hold yet
 * on sign-up (does the email exist?), on a password reset (a user who has
 * not logged in since the migration began can reset, and is then migrated
 * with the new password and this profile) and on an email change. It asks
 * the gigya-migrate login service, which searches Gigya (accounts.search)
 * and answers the profile the Login script would, or 404. See
 * docs/login-migration.md.
 *
 * Connection settings (the `configuration` object):
 *   GIGYA_MIGRATE_URL, GIGYA_MIGRATE_SECRET, GIGYA_MIGRATE_TIMEOUT_MS
 *   (as for the Login script).
 *
 * It needs a Node.js 18 or later runtime (the global fetch and
 * AbortController).
 */
function getUser(email, callback) {
  var base = String(configuration.GIGYA_MIGRATE_URL || '').replace(/\/+$/, '');
  var secret = configuration.GIGYA_MIGRATE_SECRET;
  var timeoutMs = Number(configuration.GIGYA_MIGRATE_TIMEOUT_MS) || 18000;
  if (!base || !secret) {
    return callback(new Error('gigya-migrate: set GIGYA_MIGRATE_URL and GIGYA_MIGRATE_SECRET in the connection settings'));
  }

  var finished = false;
  var controller = new AbortController();
  var timer = setTimeout(function () { controller.abort(); }, timeoutMs);
  // The callback must be called exactly once: with a profile (found), with
  // nothing (not found), or with an error (cannot tell).
  function done(err, profile) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (err) return callback(err);
    if (!profile) return callback(null);
    return callback(null, profile);
  }

  fetch(base + '/auth0/get_user', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + secret },
    body: JSON.stringify({ identifier: email }),
    signal: controller.signal
  }).then(function (res) {
    return res.text().then(function (text) {
      var body = {};
      try { body = JSON.parse(text) || {}; } catch (e) { body = {}; }
      if (res.status === 200 && body.profile) {
        return done(null, body.profile);
      }
      if (res.status === 404 && body.error === 'not_found') {
        return done(null, null);
      }
      return done(new Error('gigya-migrate: ' + (body.message || ('HTTP ' + res.status))));
    });
  }).catch(function (err) {
    var why = err && err.name === 'AbortError' ? 'no answer within ' + timeoutMs + ' ms' : String(err && err.message);
    done(new Error('gigya-migrate: the login service is unreachable: ' + why));
  });
}
