'use strict';
// Node.js baseline for bench/functions.sh: GET /api/v1/orders?limit=N for a parent, served from
// the SAME SQLite file hasivu uses, with the same statements hasivu runs and the same response
// (envelope, shape, ETag, X-Request-Id). What a well-tuned Node.js service does for this call:
//   - Fastify 5 + better-sqlite3 12, the database opened read-only (WAL is set by hasivu's
//     migrations and persists in the file) with hasivu's pragmas (32 MiB page cache, 256 MiB
//     mmap), every statement prepared once at start;
//   - HS256 JWT checked as hasivu checks it (header alg pinned to HS256, HMAC-SHA256 compared in
//     constant time, iss/aud/iat/exp and the claims it needs), then the session family checked
//     against a 5 s in-process cache backed by the same query hasivu runs (auth_service.cc);
//   - orders of the parent's children by keyset (hot_queries.h kOrdersOfParentFirstPage, limit+1
//     to learn whether a page follows), then students/schools/item counts in one query with the
//     IN list padded to the widths hasivu uses (orders_repo.cc LoadOrderExtras);
//   - a strong ETag = SHA-256 of the serialised data, as orders_routes.cc SuccessWithEtag.
// One process, one thread (Node's default). Loopback only.
//
// usage: node server.js <port> <sqlite db path>   (env HASIVU_JWT_SECRET: the server's secret;
//        HASIVU_JWT_ISSUER / HASIVU_JWT_AUDIENCE override "hasivu" / "hasivu-api")
const crypto = require('node:crypto');
const Database = require('better-sqlite3');
const fastify = require('fastify');

const port = Number(process.argv[2]);
const dbPath = process.argv[3];
const secret = process.env.HASIVU_JWT_SECRET || '';
const issuer = process.env.HASIVU_JWT_ISSUER || 'hasivu';
const audience = process.env.HASIVU_JWT_AUDIENCE || 'hasivu-api';
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !dbPath || secret.length < 32) {
  console.error('usage: HASIVU_JWT_SECRET=<32+ bytes> node server.js <port> <sqlite db path>');
  process.exit(2);
}

const db = new Database(dbPath, {readonly: true, fileMustExist: true});
// The read connection tuned as hasivu tunes its own (store/sqlite/sqlite_database.cc).
db.pragma('busy_timeout = 5000');
db.pragma('temp_store = MEMORY');
db.pragma('cache_size = -32768');
db.pragma('mmap_size = 268435456');

// The statements, as hasivu writes them ($N are SQLite named parameters; bound by name).
const ORDER_COLUMNS =
    'o.id, o.order_number, o.user_id, o.student_id, o.school_id, o.delivery_date, o.status, ' +
    'o.payment_status, o.total_amount_paise, o.currency, o.created_at, o.updated_at';
const ordersOfParentFirstPage = db.prepare(
    'SELECT ' + ORDER_COLUMNS + ' FROM orders o' +
    ' WHERE o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = $1)' +
    ' ORDER BY o.created_at DESC, o.id DESC LIMIT $2');
const kExtrasWidths = [1, 5, 10, 20, 50, 101];
const extrasByWidth = new Map();
for (const w of kExtrasWidths) {
  const marks = [];
  for (let i = 1; i <= w; ++i) marks.push('$' + i);
  extrasByWidth.set(
      w,
      db.prepare(
          'SELECT o.id, s.first_name, s.last_name, s.grade, s.section, s.parent_id, sc.name,' +
          ' (SELECT COUNT(*) FROM order_items oi WHERE oi.order_id = o.id)' +
          ' FROM orders o JOIN users s ON s.id = o.student_id' +
          ' JOIN schools sc ON sc.id = o.school_id WHERE o.id IN (' + marks.join(', ') + ')')
          .raw(true));
}
const familyState = db.prepare(
    'SELECT COUNT(*), COUNT(a.revoked_at), SUM(CASE WHEN u.is_active THEN 0 ELSE 1 END)' +
    ' FROM auth_sessions a JOIN users u ON u.id = a.user_id WHERE a.family_id = $1')
                        .raw(true);

function named(values) {
  const o = {};
  for (let i = 0; i < values.length; ++i) o[String(i + 1)] = values[i];
  return o;
}

// ---- access token (HS256 pinned) ----
const key = Buffer.from(secret, 'utf8');
const kRoles = new Set(['parent', 'student', 'kitchen_staff', 'school_admin', 'admin']);
function b64urlJson(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}
function verifyToken(header) {
  if (typeof header !== 'string' || header.length < 8 ||
      header.slice(0, 7).toLowerCase() !== 'bearer ') {
    return null;
  }
  const token = header.slice(7);
  if (token.length > 4096) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return null;
  try {
    const h = b64urlJson(parts[0]);
    if (h === null || typeof h !== 'object' || h.alg !== 'HS256') return null;
    for (const k of Object.keys(h)) {
      if (k !== 'alg' && !(k === 'typ' && h.typ === 'JWT')) return null;
    }
    const sig = Buffer.from(parts[2], 'base64url');
    const mac = crypto.createHmac('sha256', key).update(parts[0] + '.' + parts[1]).digest();
    if (sig.length !== 32 || !crypto.timingSafeEqual(sig, mac)) return null;
    const c = b64urlJson(parts[1]);
    if (c === null || typeof c !== 'object' || c.iss !== issuer || c.aud !== audience) return null;
    if (typeof c.sub !== 'string' || !c.sub || typeof c.sid !== 'string' || !c.sid ||
        !Number.isInteger(c.iat) || !Number.isInteger(c.exp) || !kRoles.has(c.role)) {
      return null;
    }
    const now = Math.floor(Date.now() / 1000);
    if (c.iat > now + 60 || now >= c.exp) return null;
    return c;
  } catch (e) {
    return null;
  }
}

// Session family usable? 5 s cache over the database, as domain/auth_session_cache.h.
const sessions = new Map();
function sessionUsable(sid) {
  const now = Date.now();
  const hit = sessions.get(sid);
  if (hit !== undefined && hit.until > now) return hit.usable;
  const [count, revoked, inactive] = familyState.get(named([sid]));
  const usable = count > 0 && revoked === 0 && inactive === 0;
  if (sessions.size > 100000) sessions.clear();
  sessions.set(sid, {usable, until: now + 5000});
  return usable;
}

// ---- the route ----
let counter = 0;
const ridPrefix = crypto.randomBytes(8).toString('hex');
const app = fastify({
  logger: false,
  genReqId: () => ridPrefix + '-' + (++counter).toString(16).padStart(12, '0'),
});

// RFC 3339 with microseconds, as hasivu writes it (JavaScript clocks stop at milliseconds).
function isoMicros() {
  return new Date().toISOString().slice(0, -1) + '000Z';
}

function fail(reply, req, status, code, message) {
  reply.code(status)
      .header('X-Request-Id', req.id)
      .header('Content-Type', 'application/json')
      .send(JSON.stringify({
        success: false,
        error: {code, message},
        meta: {timestamp: isoMicros(), requestId: req.id},
      }));
}

app.get('/api/v1/orders', (req, reply) => {
  const claims = verifyToken(req.headers.authorization);
  if (claims === null || !sessionUsable(claims.sid)) {
    reply.header('WWW-Authenticate', 'Bearer');
    return fail(reply, req, 401, 'UNAUTHENTICATED', 'A valid access token is required');
  }
  if (claims.role !== 'parent') {
    return fail(reply, req, 501, 'NOT_IMPLEMENTED', 'the baseline serves parents only');
  }
  let limit = 20;
  const q = req.query;
  for (const k of Object.keys(q)) {
    if (k !== 'limit') return fail(reply, req, 400, 'VALIDATION_ERROR', 'only limit= here');
  }
  if (q.limit !== undefined) {
    if (!/^[0-9]{1,3}$/.test(q.limit) || Number(q.limit) < 1 || Number(q.limit) > 100) {
      return fail(reply, req, 400, 'VALIDATION_ERROR', 'Invalid query parameters');
    }
    limit = Number(q.limit);
  }
  const rows = ordersOfParentFirstPage.all(named([claims.sub, limit + 1]));
  const hasMore = rows.length > limit;
  if (hasMore) rows.pop();
  const extras = new Map();
  if (rows.length > 0) {
    let width = kExtrasWidths[kExtrasWidths.length - 1];
    for (const w of kExtrasWidths) {
      if (w >= rows.length) {
        width = w;
        break;
      }
    }
    const ids = new Array(width);
    for (let i = 0; i < width; ++i) ids[i] = rows[Math.min(i, rows.length - 1)].id;
    for (const r of extrasByWidth.get(width).all(named(ids))) extras.set(r[0], r);
  }
  const orders = new Array(rows.length);
  for (let i = 0; i < rows.length; ++i) {
    const o = rows[i];
    const e = extras.get(o.id) || [o.id, '', '', null, null, '', '', 0];
    orders[i] = {
      id: o.id,
      orderNumber: o.order_number,
      studentId: o.student_id,
      student: {id: o.student_id, firstName: e[1], lastName: e[2], grade: e[3], section: e[4]},
      school: {id: o.school_id, name: e[6]},
      deliveryDate: o.delivery_date,
      status: o.status,
      paymentStatus: o.payment_status,
      totalAmount: o.total_amount_paise,
      currency: o.currency,
      itemCount: e[7],
      createdAt: o.created_at,
      updatedAt: o.updated_at,
    };
  }
  let nextCursor = null;
  if (hasMore) {
    const last = rows[rows.length - 1];
    nextCursor = Buffer.from('c-|' + last.created_at + '|' + last.id).toString('base64url');
  }
  const data = JSON.stringify({orders, pagination: {limit, nextCursor, hasMore}});
  const etag = '"' + crypto.createHash('sha256').update(data).digest('hex') + '"';
  reply.header('X-Request-Id', req.id)
      .header('ETag', etag)
      .header('Content-Type', 'application/json');
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.send(
      '{"success":true,"data":' + data + ',"meta":' +
      JSON.stringify({timestamp: isoMicros(), requestId: req.id}) + '}');
});

app.get('/healthz', (req, reply) => {
  reply.header('Content-Type', 'application/json').send('{"success":true,"data":{"status":"ok"}}');
});

app.listen({port, host: '127.0.0.1'}).catch((err) => {
  console.error(err.message);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => app.close().then(() => {
    db.close();
    process.exit(0);
  }));
}
