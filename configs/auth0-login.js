/*
 * Auth0 custom database action script "Login", for login-time migration
 * from SAP Customer Data Cloud (Gigya) with gigya-migrate.
 *
 * Paste it as the connection's Login script (Authentication > Database >
 * your connection > Custom Database, "Use my own database" on; Settings,
 * "Import Users to Auth0" on). Auth0 runs it when a user it does not hold
 * yet logs in: it asks the gigya-migrate login service (extractor
 * login-service), which checks the password with Gigya's accounts.login and
 * answers the user's profile, mapped as the bulk load maps it; Auth0 then
 * stores the user with the password just typed. See docs/login-migration.md.
 *
 * Connection settings (Custom Database > Settings, the `configuration`
 * object):
 *   GIGYA_MIGRATE_URL         https://<host:port> of the login service
 *   GIGYA_MIGRATE_SECRET      the secret of its login.clients entry for Auth0
 *   GIGYA_MIGRATE_TIMEOUT_MS  optional; default 18000, below the script's
 *                             20 s and above the service's login.timeout
 *
 * It needs a Node.js 18 or later runtime (the global fetch and
 * AbortController). It never logs or returns the password.
 */
function login(userNameOrEmail, password, callback) {
  var base = String(configuration.GIGYA_MIGRATE_URL || '').replace(/\/+$/, '');
  var secret = configuration.GIGYA_MIGRATE_SECRET;
  var timeoutMs = Number(configuration.GIGYA_MIGRATE_TIMEOUT_MS) || 18000;
  if (!base || !secret) {
    return callback(new Error('gigya-migrate: set GIGYA_MIGRATE_URL and GIGYA_MIGRATE_SECRET in the connection settings'));
  }

  var finished = false;
  var controller = new AbortController();
  var timer = setTimeout(function () { controller.abort(); }, timeoutMs);
  // The callback must be called exactly once.
  function done(err, profile) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (err) return callback(err);
    return callback(null, profile);
  }
  // A refusal the user should read (locked, disabled, pending): Auth0's
  // UnauthorizedError where the runtime has it, a plain Error otherwise.
  function refused(message) {
    return typeof UnauthorizedError === 'function' ? new UnauthorizedError(message) : new Error(message);
  }

  fetch(base + '/auth0/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + secret },
    body: JSON.stringify({ identifier: userNameOrEmail, password: password }),
    signal: controller.signal
  }).then(function (res) {
    return res.text().then(function (text) {
      var body = {};
      try { body = JSON.parse(text) || {}; } catch (e) { body = {}; }
      if (res.status === 200 && body.profile) {
        return done(null, body.profile);
      }
      switch (body.error) {
        case 'wrong_credentials':
          // Logged by Auth0 as "fp" (wrong password) for this user.
          return done(new WrongUsernameOrPasswordError(userNameOrEmail, 'wrong email or password (checked with Gigya)'));
        case 'unknown_user':
          // Logged by Auth0 as "fu" (unknown user).
          return done(new WrongUsernameOrPasswordError(null, 'no such user in Gigya'));
        case 'account_locked':
        case 'account_disabled':
        case 'pending':
        case 'captcha_required':
          return done(refused(body.message || body.error));
      }
      // Gigya or the service unavailable, slow, rate-limited, or an
      // account that cannot be migrated: an error Auth0 reports as such,
      // and the user may try again.
      return done(new Error('gigya-migrate: ' + (body.message || ('HTTP ' + res.status))));
    });
  }).catch(function (err) {
    var why = err && err.name === 'AbortError' ? 'no answer within ' + timeoutMs + ' ms' : String(err && err.message);
    done(new Error('gigya-migrate: the login service is unreachable: ' + why));
  });
}
