'use strict';
// Is the Node.js baseline faithful? Seeds the demo SQLite database with `hasivu seed`, starts
// `hasivu serve` twice (--cache none and --cache memory) and server.js on the same file with the
// same JWT secret, sends each hasivu and the baseline
// the same reads (the ones hasivu bench compares, their 304s, and the 400s and 404s around them)
// with and without Accept-Encoding, and compares status, error code, data, ETag, Cache-Control
// and the coding chosen. Exits 0 when every answer matches, 1 on a difference (each one printed),
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

// One raw answer: status, headers we compare, the body decoded as the coding says.
async function call(base, target, token, headers = {}) {
  const h = {...headers};
  if (token) h.Authorization = 'Bearer ' + token;
  // fetch would decode on its own; read the bytes to see the coding actually sent.
  const r = await fetch(base + target, {headers: h, decompress: false});
  const raw = Buffer.from(await r.arrayBuffer());
  const coding = r.headers.get('content-encoding') || '';
  let body = raw;
  // Node's fetch (undici) already decodes br/gzip and keeps the header: decode only if needed.
  if (coding === 'br' && !looksLikeJson(raw)) body = zlib.brotliDecompressSync(raw);
  if (coding === 'gzip' && !looksLikeJson(raw)) body = zlib.gunzipSync(raw);
  const text = body.toString('utf8');
  let json = null;
  if (text !== '') json = JSON.parse(text);
  return {
    status: r.status,
    etag: r.headers.get('etag'),
    cacheControl: r.headers.get('cache-control'),
    vary: r.headers.get('vary'),
    wwwAuthenticate: r.headers.get('www-authenticate'),
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
  ]);
  const h = serve('hasivu', hPort, 'none');
  const hBase = 'http://127.0.0.1:' + hPort;
  await waitHealthy(hBase, h, 'hasivu');
  const m = serve('hasivu-cached', mPort, 'memory');
  const mBase = 'http://127.0.0.1:' + mPort;
  await waitHealthy(mBase, m, 'hasivu --cache memory');
  const n = start('node', process.execPath, [path.join(__dirname, 'server.js'), String(nPort), db],
                  {HASIVU_JWT_SECRET: secret});
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
  return differences === 0 ? 0 : 1;
}

main().then((code) => {
  stopAll();
  process.exit(code);
}, (err) => {
  console.error('check.js: ' + err.message);
  stopAll();
  process.exit(2);
});
