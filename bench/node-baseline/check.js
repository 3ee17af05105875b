'use strict';
// Is the Node.js baseline faithful? Seeds the demo SQLite database with `hasivu seed`, starts
// `hasivu serve` twice (--cache none and --cache memory) and server.js on the same file with the
// same JWT secret and simulated-gateway key, sends each hasivu and the baseline
// the same reads (the ones hasivu bench compares, their 304s, and the 400s and 404s around them)
// with and without Accept-Encoding, and compares status, error code, data, ETag, Cache-Control
// and the coding chosen. Then the writes (against --cache none), each side with inputs of its
// own made through hasivu as hasivu bench makes them: orders-create (the same bodies under each
// side's own Idempotency-Key, their replays, a key reused for another body, the refusals of bad
// bodies, dates, items, callers), payments-verify (a pending order, its payment order and the
// simulated checkout's signature per side; the replay, a wrong signature, an expired payment
// order, a second payment of a paid order, a stranger), rfid-verify-card (cards of paid
// undelivered orders of today per side; the second scan, the card, reader and order refusals).
// Answers compare in status, error code, message and details, data with ids, instants and
// order numbers taken for their shape only, Location, Idempotent-Replayed, Cache-Control and
// coding; then the rows each side wrote (orders, lines, idempotency keys, payment orders and
// transactions, deliveries, cards, audit rows, slot stock) compare column by column, with the
// same columns filled. Exits 0 when every answer matches, 1 on a difference (each one printed),
// 2 when it could not run. Both servers are stopped by PID on every way out. Loopback only.
//
// usage: node bench/node-baseline/check.js <hasivu binary> <work dir>
const {spawn, spawnSync} = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const zlib = require('node:zlib');

const [hasivu, work] = process.argv.slice(2);
if (!hasivu || !work) {
  console.error('usage: node check.js <hasivu binary> <work dir>');
  process.exit(2);
}
fs.rmSync(work, {recursive: true, force: true});
fs.mkdirSync(work, {recursive: true});
const db = path.join(work, 'hasivu.db');
const fixturesPath = path.join(work, 'fixtures.json');
const secret = crypto.randomBytes(32).toString('hex');
const secretFile = path.join(work, 'jwt.secret');
fs.writeFileSync(secretFile, secret, {mode: 0o600});
// The simulated gateway's key, shared by every server as hasivu bench shares it.
const gatewayKey = crypto.randomBytes(24).toString('hex');
const gatewayKeyFile = path.join(work, 'gateway.key');
fs.writeFileSync(gatewayKeyFile, gatewayKey, {mode: 0o600});
const gatewayEnv = {HASIVU_RAZORPAY_KEY_SECRET_FILE: gatewayKeyFile};

const children = [];
function stopAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopAll();
    process.exit(2);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(name, cmd, args, env) {
  const log = fs.openSync(path.join(work, name + '.log'), 'w');
  const child = spawn(cmd, args, {env: {...process.env, ...env}, stdio: ['ignore', log, log]});
  children.push(child);
  return child;
}

async function waitHealthy(base, child, name) {
  for (let i = 0; i < 200; ++i) {
    if (child.exitCode !== null) throw new Error(name + ' exited; see its log in ' + work);
    try {
      const r = await fetch(base + '/healthz');
      if (r.status === 200) return;
    } catch (e) {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(name + ' did not answer /healthz in 10 s');
}

// One raw answer: status, headers we compare, the body decoded as the coding says. `sent`
// makes it a POST (Content-Type application/json unless `headers` says otherwise).
async function call(base, target, token, headers = {}, sent = undefined) {
  const h = {...headers};
  if (token) h.Authorization = 'Bearer ' + token;
  const init = {headers: h, decompress: false};
  if (sent !== undefined) {
    init.method = 'POST';
    init.body = sent;
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) {
      h['Content-Type'] = 'application/json';
    }
  }
  // fetch would decode on its own; read the bytes to see the coding actually sent.
  const r = await fetch(base + target, init);
  const raw = Buffer.from(await r.arrayBuffer());
  const coding = r.headers.get('content-encoding') || '';
  let body = raw;
  // Node's fetch (undici) already decodes br/gzip and keeps the header: decode only if needed.
  if (coding === 'br' && !looksLikeJson(raw)) body = zlib.brotliDecompressSync(raw);
  if (coding === 'gzip' && !looksLikeJson(raw)) body = zlib.gunzipSync(raw);
  const text = body.toString('utf8');
  let json = null;
  try {
    if (text !== '') json = JSON.parse(text);
  } catch (e) {
    json = {notJson: text.slice(0, 200)};  // compared as it is: a difference shows it
  }
  return {
    status: r.status,
    etag: r.headers.get('etag'),
    cacheControl: r.headers.get('cache-control'),
    vary: r.headers.get('vary'),
    wwwAuthenticate: r.headers.get('www-authenticate'),
    location: r.headers.get('location'),
    replayed: r.headers.get('idempotent-replayed'),
    retryAfter: r.headers.get('retry-after'),
    coding,
    size: text.length,
    json,
  };
}
function looksLikeJson(buf) {
  return buf.length > 0 && buf[0] === 0x7b;  // '{'
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function main() {
  const seed = spawnSync(
      hasivu,
      ['seed', '--store', 'sqlite:' + db, '--size', 'demo', '--fixtures-out', fixturesPath],
      {stdio: ['ignore', 'pipe', 'pipe']});
  if (seed.status !== 0) {
    throw new Error('hasivu seed failed: ' + seed.stderr.toString());
  }
  const fx = JSON.parse(fs.readFileSync(fixturesPath, 'utf8'));
  const hPort = await freePort();
  const nPort = await freePort();
  const mPort = await freePort();
  const serve = (name, port, cache) => start(name, hasivu, [
    'serve', '--listen', '127.0.0.1:' + port, '--store', 'sqlite:' + db, '--cache', cache,
    '--jwt-secret-file', secretFile, '--log-level', 'warn', '--access-log', 'false',
    '--threads', '1',
  ], gatewayEnv);
  const h = serve('hasivu', hPort, 'none');
  const hBase = 'http://127.0.0.1:' + hPort;
  await waitHealthy(hBase, h, 'hasivu');
  const m = serve('hasivu-cached', mPort, 'memory');
  const mBase = 'http://127.0.0.1:' + mPort;
  await waitHealthy(mBase, m, 'hasivu --cache memory');
  const n = start('node', process.execPath, [path.join(__dirname, 'server.js'), String(nPort), db],
                  {HASIVU_JWT_SECRET: secret, ...gatewayEnv});
  const nBase = 'http://127.0.0.1:' + nPort;
  await waitHealthy(nBase, n, 'node');

  async function login(user) {
    const r = await fetch(hBase + '/api/v1/auth/login', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({email: user.email, password: user.password}),
    });
    const j = await r.json();
    if (r.status !== 200) throw new Error('login ' + user.email + ': ' + r.status);
    return j.data.tokens.accessToken;
  }

  // What to ask, as whom: parents of every school (their profile, a child's, a stranger's,
  // their orders, their school's menus for the next two weeks), a child, kitchen staff and a
  // school admin.
  const cases = [];
  const add = (who, token, target, headers = {}) => cases.push({who, token, target, headers});
  // A genuine token (signed with the servers' secret) whose exp has passed.
  const expired = (token) => {
    const [h64, p64] = token.split('.');
    const claims = JSON.parse(Buffer.from(p64, 'base64url').toString('utf8'));
    const now = Math.floor(Date.now() / 1000);
    claims.iat = now - 7200;
    claims.exp = now - 3600;
    const body = h64 + '.' + Buffer.from(JSON.stringify(claims)).toString('base64url');
    const sig = crypto.createHmac('sha256', secret).update(body).digest('base64url');
    return body + '.' + sig;
  };
  const dayAhead = (n) => {
    const d = new Date(fx.baseDate + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };
  const schools = fx.schools.slice(0, 3);
  const otherSchool = fx.schools[fx.schools.length - 1].id;
  for (const school of schools) {
    for (const parent of school.parents.slice(0, 2)) {
      const t = await login(parent);
      const who = 'parent ' + parent.email;
      add(who, t, '/api/v1/users/me');
      for (const c of parent.children) add(who, t, '/api/v1/users/' + c.id);
      add(who, t, '/api/v1/users/' + crypto.randomUUID());
      add(who, t, '/api/v1/users/not-a-uuid');
      add(who, t, '/api/v1/orders?limit=20');
      add(who, t, '/api/v1/orders?limit=2');
      add(who, t, '/api/v1/orders');
      add(who, t, '/api/v1/orders?limit=0');
      add(who, t, '/api/v1/orders?limit=20&dateFrom=' + fx.baseDate);
      add(who, t, '/api/v1/orders?bogus=1');
      add(who, t, '/api/v1/orders?limit=5&limit=7');
      add(who, t, '/api/v1/orders?limit=20', {'If-None-Match': '*'});
      add(who, t, '/api/v1/users/me?fields=');
      add(who, expired(t), '/api/v1/users/me');
      add(who, t, '/api/v1/menus/daily?schoolId=' + school.id + '&date=0001-01-01');
      add(who, t, '/api/v1/menus/daily?schoolId=' + school.id + '&date=2020-01-01&date=' +
          dayAhead(1));
      add(who, t, '/api/v1/menus/daily?schoolId=' + school.id);
      for (let d = 0; d < 14; ++d) {
        add(who, t, '/api/v1/menus/daily?schoolId=' + school.id + '&date=' + dayAhead(d));
      }
      add(who, t, '/api/v1/menus/daily?schoolId=' + otherSchool + '&date=' + fx.baseDate);
      add(who, t, '/api/v1/menus/daily?schoolId=nope');
      add(who, t, '/api/v1/menus/daily?date=' + fx.baseDate);
      add(who, t, '/api/v1/menus/daily?schoolId=' + school.id + '&date=2026-02-30');
    }
    const child = school.parents[0].children[0];
    if (child && child.password) {
      const t = await login(child);
      add('student', t, '/api/v1/users/me');
      add('student', t, '/api/v1/users/' + school.parents[0].id);
      add('student', t, '/api/v1/orders?limit=20');
    }
    for (const staff of [school.kitchenStaff[0], school.schoolAdmin].filter(Boolean)) {
      const t = await login(staff);
      const who = 'staff ' + staff.email;
      add(who, t, '/api/v1/orders?limit=20&dateFrom=' + fx.baseDate + '&dateTo=' + fx.baseDate);
      add(who, t, '/api/v1/orders?limit=20');
      add(who, t, '/api/v1/orders?limit=20&dateFrom=' + dayAhead(3) + '&dateTo=' + dayAhead(1));
      add(who, t, '/api/v1/users/me');
      add(who, t, '/api/v1/users/' + school.parents[0].id);
      add(who, t, '/api/v1/menus/daily?schoolId=' + school.id + '&date=' + dayAhead(1));
    }
  }
  add('nobody', '', '/api/v1/orders?limit=20');
  add('nobody', 'not.a.token', '/api/v1/users/me');

  let differences = 0;
  let currentAgainst = '';
  let compared = 0;
  let encoded = 0;
  const statuses = new Map();
  const report = (c, variant, what, a, b) => {
    ++differences;
    console.log('DIFF ' + c.who + ' ' + c.target + ' [' + variant + ', ' + currentAgainst + '] ' +
                what + ':\n  hasivu ' +
                JSON.stringify(a) + '\n  node   ' + JSON.stringify(b));
  };
  const codings = [
    ['identity', {'Accept-Encoding': 'identity'}],
    ['br, gzip', {'Accept-Encoding': 'br, gzip'}],
    ['gzip', {'Accept-Encoding': 'gzip'}],
  ];
  for (const [against, base] of [['--cache none', hBase], ['--cache memory', mBase]]) {
    currentAgainst = against;
    for (const c of cases) {
      for (const [variant, codingHeaders] of codings) {
        const headers = {...c.headers, ...codingHeaders};
        const a = await call(base, c.target, c.token, headers);
        const b = await call(nBase, c.target, c.token, headers);
        ++compared;
        statuses.set(a.status, (statuses.get(a.status) || 0) + 1);
        if (a.status !== b.status) {
          report(c, variant, 'status', a.status, b.status);
          continue;
        }
        if (a.cacheControl !== b.cacheControl) {
          report(c, variant, 'Cache-Control', a.cacheControl, b.cacheControl);
        }
        if (a.vary !== b.vary) report(c, variant, 'Vary', a.vary, b.vary);
        if (a.wwwAuthenticate !== b.wwwAuthenticate) {
          report(c, variant, 'WWW-Authenticate', a.wwwAuthenticate, b.wwwAuthenticate);
        }
        if (a.status === 304 && a.etag !== b.etag) report(c, variant, 'ETag (304)', a.etag, b.etag);
        if (a.status === 200) {
          if (!same(a.json.data, b.json.data)) report(c, variant, 'data', a.json.data, b.json.data);
          if (a.etag !== b.etag) report(c, variant, 'ETag', a.etag, b.etag);
          // Near the 1 KiB threshold the envelopes' request ids (of different lengths) decide.
          if (Math.min(a.size, b.size) > 1100 && a.coding !== b.coding) {
            report(c, variant, 'Content-Encoding', a.coding, b.coding);
          }
          if (a.coding !== '') ++encoded;
          const again = await call(nBase, c.target, c.token, {...headers, 'If-None-Match': b.etag});
          const mine = await call(base, c.target, c.token, {...headers, 'If-None-Match': a.etag});
          if (again.status !== mine.status || again.etag !== mine.etag) {
            report(c, variant, 'If-None-Match', [mine.status, mine.etag], [again.status, again.etag]);
          }
        } else if (a.json && b.json) {
          const ea = a.json.error || {};
          const eb = b.json.error || {};
          if (ea.code !== eb.code) report(c, variant, 'error code', ea.code, eb.code);
          if (!same(ea.details, eb.details)) report(c, variant, 'error details', ea.details, eb.details);
          if (a.json.success !== false || b.json.success !== false) {
            report(c, variant, 'success', a.json.success, b.json.success);
          }
        }
      }
    }
  }
  const byStatus = [...statuses.entries()].sort().map(([s, k]) => s + ': ' + k).join(', ');
  console.log('compared ' + compared + ' answers (' + byStatus + '; ' + encoded +
              ' compressed 200s), differences: ' + differences);
  // The writes after the reads: the reads above saw the seeded database only.
  const w = await compareWrites({fx, hBase, nBase, login});
  return differences === 0 && w === 0 ? 0 : 1;
}

// ---- the writes ----

// Values that differ between the sides by nature, compared for their shape only: ids minted per
// request, instants, order numbers (the date part must agree), the gateway's ids and signatures.
const kUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const kUuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const kInstant = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/;
const kOrderNumber = /^ORD-([0-9]{8})-[A-Z0-9]{8}$/;
function shapeOf(v) {
  if (typeof v !== 'string') return null;
  if (kUuidV7.test(v)) return 'uuid7';
  if (kUuid.test(v)) return 'uuid';
  if (kInstant.test(v)) return 'instant';
  const m = kOrderNumber.exec(v);
  if (m) return 'order number of ' + m[1];
  if (/^pay_[A-Za-z0-9]{14}$/.test(v)) return 'payment id';
  if (/^order_[A-Za-z0-9]{14}$/.test(v)) return 'gateway order id';
  if (/^[0-9a-f]{64}$/.test(v)) return 'hex-64';
  return null;
}
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Where `a` and `b` differ other than in a member named in `vary` whose values have one shape.
function unlike(a, b, vary, at = '', out = []) {
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join(',') !== kb.join(',')) {
      out.push(at + ' members ' + JSON.stringify(ka) + ' vs ' + JSON.stringify(kb));
      return out;
    }
    for (const k of ka) unlike(a[k], b[k], vary, at + '.' + k, out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push(at + ' length ' + a.length + ' vs ' + b.length);
      return out;
    }
    for (let i = 0; i < a.length; ++i) unlike(a[i], b[i], vary, at + '[' + i + ']', out);
  } else if (a !== b) {
    const name = at.slice(at.lastIndexOf('.') + 1).replace(/\[[0-9]+\]$/, '');
    if (!vary.has(name) || shapeOf(a) === null || shapeOf(a) !== shapeOf(b)) {
      out.push(at + ': ' + JSON.stringify(a) + ' vs ' + JSON.stringify(b));
    }
  }
  return out;
}
// The structure alone: every leaf replaced by its type, an array by its elements' distinct
// structures (two orders may have different numbers of lines).
function skeleton(v) {
  if (Array.isArray(v)) return [...new Set(v.map((e) => JSON.stringify(skeleton(e))))].map(JSON.parse);
  if (isObject(v)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = skeleton(v[k]);
    return o;
  }
  return v === null ? 'null' : typeof v;
}

// "Today" and a day n days later in an IANA zone, YYYY-MM-DD (at `now` plus `aheadMs`).
function dayIn(zone, aheadMs = 0) {
  return new Intl.DateTimeFormat('en-CA', {timeZone: zone, year: 'numeric', month: '2-digit',
                                           day: '2-digit'}).format(new Date(Date.now() + aheadMs));
}
function addDays(date, n) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
const weekday = (date) => ((new Date(date + 'T00:00:00Z').getUTCDay() + 6) % 7) + 1;

async function compareWrites({fx, hBase, nBase, login}) {
  const Database = require('better-sqlite3');
  const store = new Database(db, {fileMustExist: true});
  store.pragma('busy_timeout = 5000');
  try {
    return await writeChecks({fx, hBase, nBase, login, store});
  } finally {
    store.close();
  }
}

async function writeChecks({fx, hBase, nBase, login, store}) {
  let differences = 0;
  let compared = 0;
  const writeStatuses = new Map();
  const diff = (label, what, a, b) => {
    ++differences;
    console.log('DIFF ' + label + ' ' + what + ':\n  hasivu ' + JSON.stringify(a) +
                '\n  node   ' + JSON.stringify(b));
  };
  const mustHold = (label, ok, what, detail) => {
    if (!ok) {
      ++differences;
      console.log('DIFF ' + label + ': ' + what + (detail === undefined ? '' :
                  ' (' + JSON.stringify(detail) + ')'));
    }
  };
  // One write per side, compared: status, the headers that matter, the error (code, message,
  // details and any other member, as data is), the data with `vary` members taken for their shape.
  const kEncoding = {'Accept-Encoding': 'br, gzip'};
  // `vary` null: the sides sent different inputs (each its own card): the answers compare in
  // their structure, and an error in its code and message too.
  async function both(label, target, reqs, vary = new Set()) {
    const [ra, rb] = reqs;
    const a = await call(hBase, target, ra.token, {...kEncoding, ...(ra.headers || {})}, ra.body);
    const b = await call(nBase, target, rb.token, {...kEncoding, ...(rb.headers || {})}, rb.body);
    compared += 1;
    const code = a.json && a.json.error ? ' ' + a.json.error.code : '';
    writeStatuses.set(a.status + code, (writeStatuses.get(a.status + code) || 0) + 1);
    if (process.env.CHECK_VERBOSE) console.log(label + ': ' + a.status + code + ' / ' + b.status);
    if (a.status !== b.status) {
      diff(label, 'status', [a.status, a.json && a.json.error], [b.status, b.json && b.json.error]);
      return [a, b];
    }
    for (const h of ['cacheControl', 'vary', 'wwwAuthenticate', 'replayed', 'retryAfter']) {
      if (a[h] !== b[h]) diff(label, h, a[h], b[h]);
    }
    if ((a.location === null) !== (b.location === null)) diff(label, 'Location', a.location, b.location);
    if (Math.min(a.size, b.size) > 1100 && a.coding !== b.coding) {
      diff(label, 'Content-Encoding', a.coding, b.coding);
    }
    if (a.json === null || b.json === null) {
      if ((a.json === null) !== (b.json === null)) diff(label, 'body', a.json, b.json);
      return [a, b];
    }
    if (a.json.success !== b.json.success) diff(label, 'success', a.json.success, b.json.success);
    const part = a.json.success ? 'data' : 'error';
    if (vary === null) {
      const [x, y] = [skeleton(a.json[part]), skeleton(b.json[part])];
      if (JSON.stringify(x) !== JSON.stringify(y)) diff(label, part + ' structure', x, y);
      if (part === 'error') {
        for (const k of ['code', 'message']) {
          if (a.json.error[k] !== b.json.error[k]) diff(label, 'error ' + k, a.json.error[k], b.json.error[k]);
        }
      }
      return [a, b];
    }
    for (const d of unlike(a.json[part], b.json[part], vary)) diff(label, part, d, '');
    return [a, b];
  }
  const same = (label, target, req, vary) => both(label, target, [req, req], vary);
  const body = (o) => JSON.stringify(o);
  const ok = (label, r, status) => {
    mustHold(label, r.status === status, 'answered ' + r.status + ', wanted ' + status,
             r.json && r.json.error);
    return r.status === status;
  };

  // ---- who, when, what ----
  const schools = fx.schools.slice(0, 2);
  const tokens = new Map();
  const tokenOf = async (user) => {
    if (!tokens.has(user.email)) tokens.set(user.email, await login(user));
    return tokens.get(user.email);
  };
  const parentsWithChildren = (s) => s.parents.filter((p) => p.children.length > 0);
  const P = parentsWithChildren(schools[0])[0];
  const P2 = parentsWithChildren(schools[0])[1];
  const Q = parentsWithChildren(schools[1])[0];
  const tP = await tokenOf(P);
  const tP2 = await tokenOf(P2);
  const tQ = await tokenOf(Q);
  const kitchen = await tokenOf(schools[0].kitchenStaff[0]);
  const kitchen1 = await tokenOf(schools[1].kitchenStaff[0]);
  const admin0 = await tokenOf(schools[0].schoolAdmin);
  const admin1 = await tokenOf(schools[1].schoolAdmin);
  const platformAdmin = await tokenOf(fx.admin);
  const zone = schools[0].timezone;
  const today = dayIn(zone);
  // From tomorrow on with two hours to spare (hasivu bench's kDateMargin).
  const firstOrderable = addDays(dayIn(zone, 2 * 3600 * 1000), 1);
  // Orderable days of school 0 with unlimited items, a limited slot, and a weekday without menu.
  const days = [];
  let limited = null;
  let capped = null;
  let noMenuDay = null;
  for (let d = firstOrderable; d <= addDays(today, 30) && days.length < 3; d = addDays(d, 1)) {
    if (weekday(d) > 5) continue;
    const r = await call(hBase, '/api/v1/menus/daily?schoolId=' + schools[0].id + '&date=' + d, tP);
    if (r.status === 404) {
      if (noMenuDay === null) noMenuDay = d;
      continue;
    }
    if (r.status !== 200) throw new Error('menus-daily ' + d + ': ' + r.status);
    const items = r.json.data.items;
    const open = items.filter((i) => i.availableQuantity === null);
    if (open.length >= 3) days.push({date: d, items: open});
    const l = items.find((i) => i.availableQuantity !== null && i.availableQuantity >= 4);
    if (limited === null && l) limited = {date: d, item: l};
    const c = open.find((i) => i.maxPerOrder !== null && i.maxPerOrder < 10);
    if (capped === null && c) capped = {date: d, item: c};
  }
  if (days.length === 0) throw new Error('no orderable day with unlimited items in school 0');
  let saturday = firstOrderable;
  while (weekday(saturday) !== 6) saturday = addDays(saturday, 1);
  const child = P.children[0];
  const day = days[0];
  // A line of the day's i-th unlimited item, the quantity kept within the slot's limit.
  const within = (item, quantity) => Math.min(quantity, item.maxPerOrder ?? 10);
  const line = (i, quantity = 1, extra = {}) =>
    ({menuItemId: day.items[i].menuItemId, quantity: within(day.items[i], quantity), ...extra});
  const runTag = crypto.randomBytes(4).toString('hex');
  const keyOf = (side, name) => 'check-' + runTag + '-' + side + '-' + name;

  // ---- orders-create ----
  const kOrderVary = new Set(['id', 'orderNumber', 'createdAt', 'updatedAt']);
  const created = [];  // [label, hasivu order id, node order id]
  // The same body for each side under its own key; then the replay and a reuse for another body.
  async function createBoth(label, token, order, opts = {}) {
    const text = body(order);
    const req = (side) => ({token, body: text,
      headers: {'Idempotency-Key': keyOf(side, label), ...(opts.headers || {})}});
    const [a, b] = await both('orders-create ' + label, '/api/v1/orders', [req('h'), req('n')],
                              kOrderVary);
    if (!ok('orders-create ' + label + ' (hasivu)', a, 201) ||
        !ok('orders-create ' + label + ' (node)', b, 201)) {
      return null;
    }
    for (const [side, r] of [['hasivu', a], ['node', b]]) {
      const o = r.json.data.order;
      mustHold('orders-create ' + label + ' (' + side + ')',
               r.location === '/api/v1/orders/' + o.id, 'Location names the order', r.location);
      mustHold('orders-create ' + label + ' (' + side + ')',
               kUuidV7.test(o.id) && o.items.every((i) => kUuidV7.test(i.id)), 'UUIDv7 ids', o.id);
      mustHold('orders-create ' + label + ' (' + side + ')',
               o.orderNumber.slice(4, 12) === today.replaceAll('-', ''),
               'order number of the school\'s today', o.orderNumber);
    }
    created.push([label, a.json.data.order.id, b.json.data.order.id, keyOf('h', label),
      keyOf('n', label)]);
    // The replay: the first answer again, marked.
    const [ra, rb] = await both('orders-create ' + label + ' replay', '/api/v1/orders',
                                [req('h'), req('n')], kOrderVary);
    for (const [side, first, again] of [['hasivu', a, ra], ['node', b, rb]]) {
      mustHold('orders-create ' + label + ' replay (' + side + ')',
               again.status === 201 && again.replayed === 'true' &&
                   JSON.stringify(again.json.data) === JSON.stringify(first.json.data) &&
                   again.location === first.location,
               'the first answer again, with Idempotent-Replayed');
    }
    // The key again with another body.
    const other = body({...order, specialInstructions: 'another body'});
    await both('orders-create ' + label + ' key reused', '/api/v1/orders',
               [{...req('h'), body: other}, {...req('n'), body: other}]);
    return [a.json.data.order, b.json.data.order];
  }

  await createBoth('one line', tP, {studentId: child.id, deliveryDate: day.date, items: [line(0)]});
  await createBoth('three lines', tP, {
    deliveryDate: day.date,
    studentId: child.id,
    items: [line(1, 2, {notes: 'no onions'}), {quantity: 1, menuItemId: day.items[2].menuItemId.toUpperCase()},
      line(0, 3)],
    specialInstructions: 'Less spicy, please',
    allergyInfo: 'peanuts',
  });
  await createBoth('orderItems alias', tP, {studentId: P.children[P.children.length - 1].id,
    deliveryDate: days[days.length - 1].date,
    orderItems: [{menuItemId: days[days.length - 1].items[0].menuItemId,
      quantity: within(days[days.length - 1].items[0], 2)}]});
  await createBoth('by the school admin', admin0, {studentId: P2.children[0].id,
    deliveryDate: day.date, items: [line(2)]});
  const student = schools[0].parents.flatMap((p) => p.children).find((c) => c.password);
  if (student) {
    await createBoth('by the student', await tokenOf(student), {studentId: student.id,
      deliveryDate: day.date, items: [line(0)]});
  }
  if (limited !== null) {
    // A limited slot's stock goes down by the quantity on each side.
    const stock = () => store.prepare('SELECT available_quantity FROM menu_item_slots WHERE id = ?')
                            .get(limited.item.slotId).available_quantity;
    const before = stock();
    const q = within(limited.item, 2);
    const order = {studentId: child.id, deliveryDate: limited.date,
      items: [{menuItemId: limited.item.menuItemId, quantity: q}]};
    const text = body(order);
    const a = await call(hBase, '/api/v1/orders', tP, {}, text);
    const mid = stock();
    const b = await call(nBase, '/api/v1/orders', tP, {}, text);
    const after = stock();
    compared += 1;
    mustHold('orders-create limited slot', a.status === 201 && b.status === 201 &&
             before - mid === q && mid - after === q, 'stock taken by ' + q + ' on each side',
             [a.status, b.status, before, mid, after]);
    if (a.status === 201 && b.status === 201) {
      for (const d of unlike(a.json.data, b.json.data, kOrderVary)) diff('orders-create limited', 'data', d, '');
      created.push(['limited slot', a.json.data.order.id, b.json.data.order.id, null, null]);
    }
  }
  // A refusal rolls its claim back: the key then serves a valid body.
  {
    const late = (side) => ({token: tP, headers: {'Idempotency-Key': keyOf(side, 'after refusal')},
      body: body({studentId: child.id, deliveryDate: today, items: [line(0)]})});
    await both('orders-create refused with a key', '/api/v1/orders', [late('h'), late('n')]);
  }
  await createBoth('after refusal', tP, {studentId: child.id, deliveryDate: day.date,
    items: [line(1)]});

  // Refusals: the same request to each side.
  const bad = (label, token, text, headers = {}, vary) =>
    same('orders-create ' + label, '/api/v1/orders', {token, body: text, headers}, vary);
  const base = {studentId: child.id, deliveryDate: day.date};
  await bad('no items', tP, body(base));
  await bad('no lines', tP, body({...base, items: []}));
  await bad('items not an array', tP, body({...base, items: {}}));
  await bad('21 lines', tP, body({...base, items: Array.from({length: 21}, () => line(0))}));
  await bad('bad lines', tP, body({...base, items: [{menuItemId: 'nope', quantity: 0},
    {menuItemId: day.items[0].id, quantity: '2'}, {menuItemId: day.items[0].id, quantity: 1.5},
    7, {quantity: 1}, {menuItemId: day.items[0].id, quantity: 11, notes: 'x'.repeat(501)}]}));
  await bad('wrong types', tP, body({studentId: 5, deliveryDate: null, specialInstructions: [],
    items: [line(0)]}));
  await bad('bad ids and date', tP, body({studentId: 'abc', deliveryDate: '2026-02-30',
    items: [line(0)], allergyInfo: 'y'.repeat(1001)}));
  await bad('today', tP, body({...base, deliveryDate: today, items: [line(0)]}));
  await bad('a Saturday', tP, body({...base, deliveryDate: saturday, items: [line(0)]}));
  await bad('31 days ahead', tP, body({...base, deliveryDate: addDays(today, 31), items: [line(0)]}));
  if (noMenuDay !== null) {
    await bad('no menu that day', tP, body({...base, deliveryDate: noMenuDay, items: [line(0)]}));
  }
  await bad('item not on the menu', tP, body({...base, items: [line(0),
    {menuItemId: crypto.randomUUID(), quantity: 1}]}));
  if (capped !== null) {
    const m = capped.item.maxPerOrder;
    await bad('over the per-order limit', tP, body({...base, deliveryDate: capped.date,
      items: [{menuItemId: capped.item.menuItemId, quantity: m},
        {menuItemId: capped.item.menuItemId, quantity: 1}]}));
  }
  await bad('another family\'s child', tP, body({...base, studentId: Q.children[0].id,
    items: [line(0)]}));
  await bad('an unknown student', tP, body({...base, studentId: crypto.randomUUID(),
    items: [line(0)]}));
  await bad('kitchen staff', kitchen, body({...base, items: [line(0)]}));
  await bad('other school\'s admin', admin1, body({...base, items: [line(0)]}));
  await bad('not JSON', tP, '{"studentId":');
  await bad('not an object', tP, '[1,2]');
  await bad('empty body', tP, '');
  await bad('a NUL', tP, body({...base, items: [line(0)], allergyInfo: 'a\u0000b'}));
  await bad('a lone surrogate', tP, '{"studentId":"\\ud800","items":[]}');
  await bad('text/plain', tP, body({...base, items: [line(0)]}), {'Content-Type': 'text/plain'});
  await bad('no token', '', body({...base, items: [line(0)]}));
  await bad('a bad Idempotency-Key', tP, body({...base, items: [line(0)]}),
            {'Idempotency-Key': 'k'.repeat(256)});
  await bad('over 64 KiB', tP, body({...base, items: [line(0)], allergyInfo: 'z'.repeat(70000)}));

  // ---- payments-verify ----
  // A pending order, its payment order and the simulated checkout, all through hasivu.
  const kPayVary = new Set(['orderId', 'paymentId', 'verifiedAt']);
  const payOrder = {studentId: child.id, deliveryDate: day.date, items: [line(0, 2), line(1)]};
  async function checkout(token) {
    const o = await call(hBase, '/api/v1/orders', token, {}, body(payOrder));
    if (o.status !== 201) throw new Error('setup order: ' + o.status);
    const po = await call(hBase, '/api/v1/payments/orders', token, {},
                          body({orderId: o.json.data.order.id}));
    if (po.status !== 201) throw new Error('setup payment order: ' + po.status);
    const s = await call(hBase, '/api/v1/payments/simulate', token, {},
                         body({razorpayOrderId: po.json.data.paymentOrder.gatewayOrderId,
                           outcome: 'success'}));
    if (s.status !== 200) throw new Error('setup checkout: ' + s.status);
    return {orderId: o.json.data.order.id, paymentOrderId: po.json.data.paymentOrder.id,
      ...s.json.data};
  }
  const [ch, cn] = [await checkout(tP), await checkout(tP)];
  const verify = (c) => body({razorpayOrderId: c.razorpayOrderId,
    razorpayPaymentId: c.razorpayPaymentId, razorpaySignature: c.razorpaySignature});
  const sign = (orderId, paymentId) =>
    crypto.createHmac('sha256', gatewayKey).update(orderId + '|' + paymentId).digest('hex');
  // A stranger first: not theirs, 404, nothing written.
  await both('payments-verify by a stranger', '/api/v1/payments/verify',
             [{token: tQ, body: verify(ch)}, {token: tQ, body: verify(cn)}]);
  const [va, vb] = await both('payments-verify', '/api/v1/payments/verify',
                              [{token: tP, body: verify(ch)}, {token: tP, body: verify(cn)}],
                              kPayVary);
  if (ok('payments-verify (hasivu)', va, 200) && ok('payments-verify (node)', vb, 200)) {
    for (const [side, r, c] of [['hasivu', va, ch], ['node', vb, cn]]) {
      const v = r.json.data.verification;
      mustHold('payments-verify (' + side + ')', v.paymentId === c.razorpayPaymentId &&
               v.orderId === c.orderId, 'the payment and order verified', v);
    }
    const [ra, rb] = await both('payments-verify replay', '/api/v1/payments/verify',
                                [{token: tP, body: verify(ch)}, {token: tP, body: verify(cn)}],
                                kPayVary);
    for (const [side, first, again] of [['hasivu', va, ra], ['node', vb, rb]]) {
      mustHold('payments-verify replay (' + side + ')', again.status === 200 &&
               JSON.stringify(again.json.data) === JSON.stringify(first.json.data),
               'the first answer again');
    }
  }
  const flip = (sig) => sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  await both('payments-verify wrong signature', '/api/v1/payments/verify', [
    {token: tP, body: body({...JSON.parse(verify(ch)), razorpaySignature: flip(ch.razorpaySignature)})},
    {token: tP, body: body({...JSON.parse(verify(cn)), razorpaySignature: flip(cn.razorpaySignature)})},
  ]);
  // A second payment of a paid order, signed with the gateway's key.
  const second = (c) => {
    const pay = 'pay_' + crypto.randomBytes(7).toString('hex');
    return body({razorpayOrderId: c.razorpayOrderId, razorpayPaymentId: pay,
      razorpaySignature: sign(c.razorpayOrderId, pay)});
  };
  await both('payments-verify second payment of a paid order', '/api/v1/payments/verify',
             [{token: tP, body: second(ch)}, {token: tP, body: second(cn)}]);
  const payBad = (label, text, token = tP) =>
    same('payments-verify ' + label, '/api/v1/payments/verify', {token, body: text});
  await payBad('empty', body({}));
  await payBad('wrong types', body({razorpayOrderId: 1, razorpayPaymentId: true,
    razorpaySignature: {}}));
  await payBad('malformed ids', body({razorpayOrderId: 'order_!!', razorpayPaymentId: 'pay',
    razorpaySignature: 'x'}));
  {
    const unknownOrder = 'order_' + crypto.randomBytes(7).toString('hex');
    const pay = 'pay_' + crypto.randomBytes(7).toString('hex');
    await payBad('unknown payment order', body({razorpayOrderId: unknownOrder,
      razorpayPaymentId: pay, razorpaySignature: sign(unknownOrder, pay)}));
  }
  await payBad('not JSON', 'nope');
  await payBad('no token', verify(ch), '');
  // An expired payment order: its expiry moved into the past in the store.
  {
    const [eh, en] = [await checkout(tP), await checkout(tP)];
    store.prepare("UPDATE payment_orders SET expires_at = '2020-01-01T00:00:00.000000Z'" +
                  ' WHERE id IN (?, ?)').run(eh.paymentOrderId, en.paymentOrderId);
    await both('payments-verify expired payment order', '/api/v1/payments/verify',
               [{token: tP, body: verify(eh)}, {token: tP, body: verify(en)}]);
  }

  // ---- rfid-verify-card ----
  // Cards of students with exactly one paid, undelivered order of today (so the second scan
  // finds it delivered), split between the sides; the expected answer read from the store.
  const kDeliverable = "('confirmed', 'preparing', 'ready', 'out_for_delivery')";
  const nowText = new Date().toISOString().slice(0, -1) + '000Z';
  const scannable = (school) => store.prepare(
      'SELECT c.card_number, c.id AS card_id, o.id AS order_id FROM rfid_cards c' +
      ' JOIN users s ON s.id = c.student_id JOIN orders o ON o.student_id = c.student_id' +
      ' WHERE c.school_id = ? AND c.is_active = 1 AND (c.expires_at IS NULL OR c.expires_at > ?)' +
      " AND s.is_active = 1 AND o.delivery_date = ? AND o.payment_status = 'paid'" +
      ' AND o.status IN ' + kDeliverable +
      ' AND (SELECT COUNT(*) FROM orders x WHERE x.student_id = c.student_id' +
      " AND x.delivery_date = o.delivery_date AND x.status IN ('confirmed', 'preparing'," +
      " 'ready', 'out_for_delivery', 'delivered')) = 1 ORDER BY c.card_number")
      .all(school.id, nowText, dayIn(school.timezone));
  const expected = (cardNumber, orderId) => {
    const c = store.prepare('SELECT c.id, c.card_number, s.id AS sid, s.first_name,' +
        ' s.last_name, s.grade, s.section, sc.id AS school_id, sc.name FROM rfid_cards c' +
        ' JOIN users s ON s.id = c.student_id JOIN schools sc ON sc.id = c.school_id' +
        ' WHERE c.card_number = ?').get(cardNumber);
    const o = store.prepare('SELECT id, order_number FROM orders WHERE id = ?').get(orderId);
    const lines = store.prepare('SELECT name, quantity FROM order_items WHERE order_id = ?' +
                                ' ORDER BY created_at, id').all(orderId);
    return {
      verification: {id: '', verifiedAt: '', status: 'verified'},
      student: {id: c.sid, firstName: c.first_name, lastName: c.last_name, grade: c.grade,
        section: c.section},
      school: {id: c.school_id, name: c.name},
      order: {id: o.id, orderNumber: o.order_number, status: 'delivered', items: lines},
      card: {id: c.id, cardNumber: c.card_number},
    };
  };
  const kScanVary = new Set(['id', 'verifiedAt']);
  const scans = [];  // [label, hasivu {card, order}, node {card, order}]
  async function scanBoth(label, token, cards, extra) {
    const [ch2, cn2] = cards;
    const req = (c) => ({token, body: body({cardNumber: c.card_number, ...extra(c)})});
    const [a, b] = await both('rfid-verify-card ' + label, '/api/v1/rfid/verify',
                              [req(ch2), req(cn2)], null);
    // Each side's own card and order: against the store, then the two answers' structure.
    for (const [side, r, c] of [['hasivu', a, ch2], ['node', b, cn2]]) {
      if (!ok('rfid-verify-card ' + label + ' (' + side + ')', r, 200)) return;
      const want = expected(c.card_number, c.order_id);
      for (const d of unlike(want, r.json.data, kScanVary)) {
        if (!d.startsWith('.verification.id') && !d.startsWith('.verification.verifiedAt')) {
          diff('rfid-verify-card ' + label + ' (' + side + ' vs the store)', 'data', d, '');
        }
      }
      const v = r.json.data.verification;
      mustHold('rfid-verify-card ' + label + ' (' + side + ')',
               kUuidV7.test(v.id) && kInstant.test(v.verifiedAt), 'verification id and instant', v);
    }
    if (JSON.stringify(skeleton(a.json.data)) !== JSON.stringify(skeleton(b.json.data))) {
      diff('rfid-verify-card ' + label, 'structure', skeleton(a.json.data), skeleton(b.json.data));
    }
    scans.push([label, ch2, cn2]);
    // The second scan: 409 with the first verification and the delivered order.
    const [sa, sb] = await both('rfid-verify-card ' + label + ' second scan', '/api/v1/rfid/verify',
                                [req(ch2), req(cn2)], null);
    for (const [side, first, again, c] of [['hasivu', a, sa, ch2], ['node', b, sb, cn2]]) {
      if (again.status !== 409 || !again.json.error) continue;
      const e = again.json.error;
      const f = first.json.data;
      const sent = JSON.parse(req(c).body);
      mustHold('rfid-verify-card ' + label + ' second scan (' + side + ')',
               e.verification && e.verification.id === f.verification.id &&
                   e.verification.verifiedAt === f.verification.verifiedAt &&
                   e.verification.orderId === f.order.id && e.verification.cardId === f.card.id &&
                   e.verification.readerId === (sent.readerId ?? null) &&
                   e.verification.location === (sent.location ?? null) &&
                   e.order.id === f.order.id && e.order.orderNumber === f.order.orderNumber &&
                   e.order.status === 'delivered' && e.order.deliveredAt === f.verification.verifiedAt,
               'the first verification and the delivered order', e);
    }
  }
  const s0 = scannable(schools[0]);
  const s1 = scannable(schools[1]);
  if (s0.length < 4 || s1.length < 2) {
    throw new Error('too few cards with one paid undelivered order of today (' + s0.length +
                    ', ' + s1.length + ')');
  }
  const reader0 = schools[0].readers[0].id;
  await scanBoth('with a reader', kitchen, [s0[0], s0[1]], () => ({readerId: reader0}));
  await scanBoth('with the order and a location', kitchen, [s0[2], s0[3]],
                 (c) => ({orderId: c.order_id, location: 'Canteen counter 2'}));
  await scanBoth('by the school admin', admin1, [s1[0], s1[1]], () => ({}));

  const scanBad = (label, token, text) =>
    same('rfid-verify-card ' + label, '/api/v1/rfid/verify', {token, body: text});
  const children0 = schools[0].parents.flatMap((p) => p.children);
  const activeCard = children0.find((c) => c.cardActive && !c.cardExpired).cardNumber;
  await scanBad('unknown card', kitchen, body({cardNumber: 'RFID-ZZZZ-0000'}));
  await scanBad('malformed card', kitchen, body({cardNumber: 'abc', readerId: 'x', orderId: 'y',
    location: 'l'.repeat(256)}));
  await scanBad('no card', kitchen, body({}));
  await scanBad('wrong types', kitchen, body({cardNumber: 12, readerId: 3, location: false}));
  await scanBad('by a parent', tP, body({cardNumber: activeCard}));
  await scanBad('by another school\'s kitchen', kitchen1, body({cardNumber: activeCard}));
  await scanBad('a reader of another school', platformAdmin,
                body({cardNumber: activeCard, readerId: schools[1].readers[0].id}));
  await scanBad('an unknown reader', kitchen, body({cardNumber: activeCard,
    readerId: crypto.randomUUID()}));
  const inactive = children0.find((c) => !c.cardActive);
  if (inactive) await scanBad('an inactive card', kitchen, body({cardNumber: inactive.cardNumber}));
  const expired = children0.find((c) => c.cardActive && c.cardExpired);
  if (expired) await scanBad('an expired card', kitchen, body({cardNumber: expired.cardNumber}));
  await scanBad('an unknown order', kitchen, body({cardNumber: activeCard,
    orderId: crypto.randomUUID()}));
  // The pending order created above for the first child, not for today.
  if (child.cardActive && !child.cardExpired) {
    await scanBad('an order not of today', kitchen, body({cardNumber: child.cardNumber,
      orderId: created[0][1]}));
  }
  const idle = store.prepare('SELECT c.card_number FROM rfid_cards c JOIN users s ON' +
      ' s.id = c.student_id WHERE c.school_id = ? AND c.is_active = 1 AND' +
      ' (c.expires_at IS NULL OR c.expires_at > ?) AND s.is_active = 1 AND NOT EXISTS' +
      ' (SELECT 1 FROM orders o WHERE o.student_id = c.student_id AND o.delivery_date = ?' +
      " AND o.status IN ('confirmed', 'preparing', 'ready', 'out_for_delivery', 'delivered'))" +
      ' LIMIT 1').get(schools[0].id, nowText, today);
  if (idle) await scanBad('no order today', kitchen, body({cardNumber: idle.card_number}));
  await scanBad('not JSON', kitchen, '{');

  // ---- the store ----
  // Row pairs compared column by column: the same columns filled, equal values but where the
  // column is one of `vary` (then the values have one shape) or `own` (checked by the caller).
  function rows(label, a, b, vary, own = []) {
    if (a === undefined || b === undefined) {
      mustHold(label, false, 'a row on each side', [a === undefined, b === undefined]);
      return;
    }
    compared += 1;
    for (const col of Object.keys(a)) {
      if ((a[col] === null) !== (b[col] === null)) {
        diff(label, col + ' filled', a[col], b[col]);
      } else if (own.includes(col)) {
        continue;
      } else if (a[col] !== b[col] && !(vary.includes(col) && shapeOf(a[col]) !== null &&
                                         shapeOf(a[col]) === shapeOf(b[col]))) {
        diff(label, col, a[col], b[col]);
      }
    }
  }
  const one = (sql, ...args) => store.prepare(sql).get(...args);
  const many = (sql, ...args) => store.prepare(sql).all(...args);
  const times = ['created_at', 'updated_at'];
  for (const [label, ha, na, hk, nk] of created) {
    rows('store orders (' + label + ')', one('SELECT * FROM orders WHERE id = ?', ha),
         one('SELECT * FROM orders WHERE id = ?', na), ['id', 'order_number', ...times]);
    const ia = many('SELECT * FROM order_items WHERE order_id = ? ORDER BY id', ha);
    const ib = many('SELECT * FROM order_items WHERE order_id = ? ORDER BY id', na);
    mustHold('store order_items (' + label + ')', ia.length === ib.length, 'as many lines',
             [ia.length, ib.length]);
    for (let i = 0; i < Math.min(ia.length, ib.length); ++i) {
      rows('store order_items (' + label + ') line ' + i, ia[i], ib[i],
           ['id', 'order_id', ...times]);
    }
    if (hk !== null) {
      const ka = one('SELECT * FROM idempotency_keys WHERE key = ?', hk);
      const kb = one('SELECT * FROM idempotency_keys WHERE key = ?', nk);
      rows('store idempotency_keys (' + label + ')', ka, kb, ['id', 'created_at', 'expires_at'],
           ['key', 'resource_id', 'response_body']);
      for (const [side, k, id] of [['hasivu', ka, ha], ['node', kb, na]]) {
        if (k === undefined) continue;
        mustHold('store idempotency_keys (' + label + ', ' + side + ')',
                 k.resource_id === id && JSON.parse(k.response_body).order.id === id &&
                     Date.parse(k.expires_at) - Date.parse(k.created_at) === 24 * 3600 * 1000,
                 'the order, its answer, 24 hours');
      }
      if (ka && kb) {
        for (const d of unlike(JSON.parse(ka.response_body), JSON.parse(kb.response_body),
                               kOrderVary)) {
          diff('store idempotency_keys (' + label + ')', 'response_body', d, '');
        }
      }
    }
  }
  // The payments: the payment orders, transactions, orders and audit rows of each side's pay.
  const kMethods = ['upi', 'card', 'netbanking', 'wallet'];
  for (const [label, h, n] of [['verified', ch, cn]]) {
    rows('store payment_orders (' + label + ')',
         one('SELECT * FROM payment_orders WHERE id = ?', h.paymentOrderId),
         one('SELECT * FROM payment_orders WHERE id = ?', n.paymentOrderId),
         ['id', 'gateway_order_id', 'order_id', 'expires_at', 'paid_at', ...times], ['receipt']);
    const ta = one('SELECT * FROM payment_transactions WHERE payment_order_id = ?', h.paymentOrderId);
    const tb = one('SELECT * FROM payment_transactions WHERE payment_order_id = ?', n.paymentOrderId);
    rows('store payment_transactions (' + label + ')', ta, tb,
         ['id', 'gateway_payment_id', 'payment_order_id', 'signature', 'captured_at', ...times],
         ['method']);
    for (const [side, t, c] of [['hasivu', ta, h], ['node', tb, n]]) {
      if (t === undefined) continue;
      mustHold('store payment_transactions (' + side + ')',
               t.method === kMethods[c.razorpayPaymentId.charCodeAt(c.razorpayPaymentId.length - 1) % 4] &&
                   t.signature === c.razorpaySignature && t.captured_at === t.created_at,
               'the method, signature and capture instant', [t.method, t.captured_at]);
    }
    rows('store orders (' + label + ')', one('SELECT * FROM orders WHERE id = ?', h.orderId),
         one('SELECT * FROM orders WHERE id = ?', n.orderId), ['id', 'order_number', ...times]);
    const audit = (orderId) => one("SELECT * FROM audit_logs WHERE entity_id = ? AND" +
                                   " action = 'payment_captured'", orderId);
    const aa = audit(h.orderId);
    const ab = audit(n.orderId);
    rows('store audit_logs (' + label + ')', aa, ab, ['id', 'entity_id', 'created_at'],
         ['changes', 'request_id']);
    if (aa && ab) {
      for (const d of unlike(JSON.parse(aa.changes), JSON.parse(ab.changes),
                             new Set(['paymentOrderId', 'gatewayOrderId', 'gatewayPaymentId']))) {
        diff('store audit_logs (' + label + ')', 'changes', d, '');
      }
    }
  }
  // The deliveries: verifications, cards, orders and audit rows of each side's scans.
  for (const [label, h, n] of scans) {
    const va2 = one('SELECT * FROM delivery_verifications WHERE order_id = ?', h.order_id);
    const vb2 = one('SELECT * FROM delivery_verifications WHERE order_id = ?', n.order_id);
    rows('store delivery_verifications (' + label + ')', va2, vb2,
         ['id', 'order_id', 'student_id', 'card_id', 'verified_at', 'created_at'],
         ['verification_data']);
    if (va2 && vb2) {
      const da = JSON.parse(va2.verification_data);
      const dbb = JSON.parse(vb2.verification_data);
      mustHold('store delivery_verifications (' + label + ')',
               da.cardNumber === h.card_number && dbb.cardNumber === n.card_number &&
                   JSON.stringify(Object.keys(da)) === JSON.stringify(Object.keys(dbb)) &&
                   da.method === dbb.method && da.verifiedBy === dbb.verifiedBy,
               'verification_data', [da, dbb]);
    }
    const oa = one('SELECT * FROM orders WHERE id = ?', h.order_id);
    const ob = one('SELECT * FROM orders WHERE id = ?', n.order_id);
    // Each side delivered an order of its own card: the order and the card touched at the
    // verification's instant.
    for (const [side, o, v, c] of [['hasivu', oa, va2, h], ['node', ob, vb2, n]]) {
      const card = one('SELECT last_used_at, updated_at FROM rfid_cards WHERE id = ?', c.card_id);
      mustHold('store orders, rfid_cards (' + label + ', ' + side + ')', o.status === 'delivered' &&
               v !== undefined && o.delivered_at === v.verified_at &&
               o.updated_at === v.verified_at && card.last_used_at === v.verified_at &&
               card.updated_at === v.verified_at,
               'delivered and the card used at the verification\'s instant',
               [o.status, o.delivered_at, card]);
    }
    const audit = (orderId) => one("SELECT * FROM audit_logs WHERE entity_id = ? AND" +
                                   " action = 'rfid_delivery_verified'", orderId);
    const aa = audit(h.order_id);
    const ab = audit(n.order_id);
    rows('store audit_logs (' + label + ')', aa, ab, ['id', 'entity_id', 'created_at'],
         ['changes', 'metadata', 'request_id']);
    if (aa && ab) {
      for (const col of ['changes', 'metadata']) {
        const x = skeleton(JSON.parse(aa[col]));
        const y = skeleton(JSON.parse(ab[col]));
        if (JSON.stringify(x) !== JSON.stringify(y)) diff('store audit_logs (' + label + ')', col, x, y);
      }
      const ma = JSON.parse(aa.metadata);
      const mb = JSON.parse(ab.metadata);
      mustHold('store audit_logs (' + label + ')', ma.verificationId === va2.id &&
               mb.verificationId === vb2.id && ma.cardId === h.card_id && mb.cardId === n.card_id &&
               ma.readerId === mb.readerId && ma.location === mb.location,
               'metadata names the verification, card, reader and location', [ma, mb]);
    }
  }
  const byStatus = [...writeStatuses.entries()].sort().map(([k, n]) => k + ': ' + n).join(', ');
  console.log('compared ' + compared + ' writes and row sets (' + byStatus + '; ' +
              created.length + ' order pairs, ' + scans.length + ' scan pairs), differences: ' +
              differences);
  return differences;
}

main().then((code) => {
  stopAll();
  process.exit(code);
}, (err) => {
  console.error('check.js: ' + err.message);
  stopAll();
  process.exit(2);
});
