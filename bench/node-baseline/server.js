'use strict';
// Node.js baseline: the reads of hasivu bench's peer comparison (orders-list, users-get,
// menus-daily) served from the SAME SQLite file hasivu uses, with the statements and strategies
// hasivu's SQLite path runs today and the same responses (envelope, shape, ETag, Cache-Control,
// X-Request-Id, compression). What a well-tuned Node.js service does for these calls:
//   - Fastify 5 + better-sqlite3 12, the database opened read-only (WAL is set by hasivu's
//     migrations and persists in the file) with hasivu's pragmas (32 MiB page cache, 256 MiB
//     mmap), every statement prepared once;
//   - HS256 JWT checked as hasivu checks it (header alg pinned to HS256, HMAC-SHA256 compared in
//     constant time, iss/aud/iat/exp and the claims it needs), then the session family checked
//     against a 5 s in-process cache backed by the same query hasivu runs (auth_service.cc);
//   - orders-list (orders_repo.cc): a parent's page as the merge of each child's page (up to 8
//     children, else one statement), a student's page, a school's page for kitchen staff and
//     school admins with the date/status filters; students and schools by point lookup;
//   - users-get (domain/user_service.cc) and menus-daily (domain/menu_service.cc) with the same
//     visibility rules and 404s, a menu's "today" in the school's time zone;
//   - a strong ETag = SHA-256 of the serialised data and If-None-Match → 304 (read_helpers.cc);
//   - responses of 1 KiB or more compressed as hasivu compresses a body for one response
//     (compress/settings.h: brotli at the per-request quality 1, gzip 5, chosen from
//     Accept-Encoding, sent only when smaller), synchronously on the one thread as hasivu does
//     (zstd is not in Node 20's zlib: br or gzip).
// What it does not serve answers 501 NOT_IMPLEMENTED (hasivu bench reports such a function as
// not served by the peer). One process, one thread (Node's default). Loopback only.
//
// usage: node server.js <port> <sqlite db path>   (env HASIVU_JWT_SECRET: the server's secret;
//        HASIVU_JWT_ISSUER / HASIVU_JWT_AUDIENCE override "hasivu" / "hasivu-api")
// check.js compares its answers with hasivu's on the same database.
const crypto = require('node:crypto');
const zlib = require('node:zlib');
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

// better-sqlite3 binds $N by name: {"1": v1, "2": v2, ...}.
function named(values) {
  const o = {};
  for (let i = 0; i < values.length; ++i) o[String(i + 1)] = values[i];
  return o;
}
// Statements prepared on first use and kept, keyed by their text (hasivu's statement cache).
const statements = new Map();
function stmt(sql) {
  let s = statements.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    statements.set(sql, s);
  }
  return s;
}
const get = (sql, values) => stmt(sql).get(named(values));
const all = (sql, values) => stmt(sql).all(named(values));

// ---- the statements, as hasivu writes them (store/hot_queries.h, *_repo.cc) ----
const ORDER_COLUMNS =
    'o.id, o.order_number, o.user_id, o.student_id, o.school_id, o.delivery_date, o.status, ' +
    'o.payment_status, o.total_amount_paise, o.currency, o.created_at, o.updated_at, ' +
    'o.item_count';
const kOrdersOfParentFirstPage = 'SELECT ' + ORDER_COLUMNS + ' FROM orders o' +
    ' WHERE o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = $1)' +
    ' ORDER BY o.created_at DESC, o.id DESC LIMIT $2';
const kOrdersOfStudentFirstPage = 'SELECT ' + ORDER_COLUMNS + ' FROM orders o' +
    ' WHERE o.student_id = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT $2';
const kChildrenOfParent = 'SELECT u.id FROM users u WHERE u.parent_id = $1';
const kStudentExtras =
    'SELECT first_name, last_name, grade, section, parent_id FROM users WHERE id = $1';
const kSchoolName = 'SELECT name FROM schools WHERE id = $1';
const kUserById = 'SELECT u.id, u.email, u.password_hash, u.first_name, u.last_name, u.phone,' +
    ' u.role, u.school_id, u.parent_id, u.grade, u.section, u.status, u.is_active, u.created_at,' +
    ' u.updated_at FROM users u WHERE u.id = $1';
const kSchoolById = 'SELECT id, name, is_active FROM schools WHERE id = $1';
const kChildrenDetails = 'SELECT id, first_name, last_name, grade, section FROM users' +
    ' WHERE parent_id = $1 ORDER BY first_name, id';
const kMenuSchool = 'SELECT id, name, timezone, is_active FROM schools WHERE id = $1';
const kParentHasChildInSchool =
    'SELECT 1 FROM users u WHERE u.parent_id = $1 AND u.school_id = $2 LIMIT 1';
const kDailyMenuOfSchool = 'SELECT d.id, d.school_id, d.date, d.day_type, d.is_active,' +
    ' d.is_published, d.published_at, d.updated_at' +
    ' FROM daily_menus d WHERE d.school_id = $1 AND d.date = $2';
const kDailyMenuSlots = 'SELECT s.id, s.menu_item_id, m.name, m.description, s.category,' +
    ' COALESCE(s.custom_price_paise, m.price_paise) AS price, m.currency, m.image_url,' +
    ' m.allergens, m.calories, s.available_quantity, s.max_per_order, s.is_special,' +
    ' s.display_order FROM menu_item_slots s JOIN menu_items m ON m.id = s.menu_item_id' +
    ' WHERE s.daily_menu_id = $1 ORDER BY s.display_order, s.id';
const kFamilyState =
    'SELECT COUNT(*) AS n, COUNT(a.revoked_at) AS revoked,' +
    " SUM(CASE WHEN u.is_active AND u.status IN ('active', 'pending') THEN 0 ELSE 1 END)" +
    ' AS inactive' +
    ' FROM auth_sessions a JOIN users u ON u.id = a.user_id WHERE a.family_id = $1';

// ---- access token (HS256 pinned) ----
const key = Buffer.from(secret, 'utf8');
const kRoles = new Set(['parent', 'student', 'kitchen_staff', 'school_admin', 'admin']);
function b64urlJson(s) {
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}
// verifyToken's answer for a token that is genuine but past its exp (api/auth.cc TOKEN_EXPIRED).
const kExpired = {expired: true};
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
    if (c.iat > now + 60) return null;
    if (now >= c.exp) return kExpired;
    if (typeof c.school !== 'string') c.school = '';
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
  const s = get(kFamilyState, [sid]);
  const usable = s.n > 0 && s.revoked === 0 && !s.inactive;
  if (sessions.size > 100000) sessions.clear();
  sessions.set(sid, {usable, until: now + 5000});
  return usable;
}

const isAdmin = (c) => c.role === 'admin';
const isStaff = (c) => c.role === 'kitchen_staff' || c.role === 'school_admin';
// domain/access.cc ActsInSchool: an empty school on either side never matches.
const actsInSchool = (c, schoolId) =>
    isAdmin(c) || (isStaff(c) && c.school !== '' && !!schoolId && c.school === schoolId);
const kUuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const kDate = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
function isDate(s) {
  const m = kDate.exec(s);
  if (m === null) return false;
  const y = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
}
// A repeated parameter counts once, its last value (as hasivu's kLastWins), or its first where
// the repetition itself is refused (hasivu's default; the issue is reported separately).
const last = (v) => (Array.isArray(v) ? v[v.length - 1] : v);
const first = (v) => (Array.isArray(v) ? v[0] : v);

// ---- responses ----
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

// The coding hasivu's compress/negotiation.cc would pick among br and gzip.
function negotiate(header) {
  if (typeof header !== 'string' || header === '') return null;
  const weight = {br: -1, gzip: -1, '*': -1};
  for (const member of header.split(',')) {
    const [name, ...params] = member.trim().split(';');
    const coding = name.trim().toLowerCase();
    if (!(coding in weight) || weight[coding] >= 0) continue;
    let q = 1000;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.[0-9]{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1000, Math.round(Number(m[1]) * 1000));
    }
    weight[coding] = q;
  }
  const of = (c) => (weight[c] >= 0 ? weight[c] : Math.max(weight['*'], 0));
  if (of('br') > 0 && of('br') >= of('gzip')) return 'br';
  if (of('gzip') > 0) return 'gzip';
  return null;
}

// The headers every answer gets from hasivu's response writer (http/response_writer.cc): an
// answer to a request with Authorization is "private" unless it says otherwise, and JSON answers
// vary with Accept-Encoding.
function commonHeaders(req, reply) {
  reply.header('X-Request-Id', req.id).header('Vary', 'Accept-Encoding');
  if (req.headers.authorization !== undefined && !reply.hasHeader('Cache-Control')) {
    reply.header('Cache-Control', 'private');
  }
}

function send(req, reply, status, body) {
  reply.code(status).header('Content-Type', 'application/json');
  commonHeaders(req, reply);
  const buf = Buffer.from(body, 'utf8');
  if (buf.length >= 1024) {
    const coding = negotiate(req.headers['accept-encoding']);
    let out = null;
    if (coding === 'br') {
      out = zlib.brotliCompressSync(buf, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 1,  // kDefaultBrotliLevelPerRequest
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
        },
      });
    } else if (coding === 'gzip') {
      out = zlib.gzipSync(buf, {level: 5});
    }
    if (out !== null && out.length < buf.length) {
      // The encoded variant has its own tag, "X-br" for "X" (compress::TagForEncoding).
      const etag = reply.getHeader('ETag');
      if (typeof etag === 'string') reply.header('ETag', etag.slice(0, -1) + '-' + coding + '"');
      return reply.header('Content-Encoding', coding).send(out);
    }
  }
  return reply.send(buf);
}

function meta(req) {
  return JSON.stringify({timestamp: isoMicros(), requestId: req.id});
}

function fail(req, reply, status, code, message, details) {
  const error = {code, message};
  if (details) error.details = details;
  return send(
      req, reply, status,
      JSON.stringify({success: false, error, meta: {timestamp: isoMicros(), requestId: req.id}}));
}

// The opaque parts of an If-None-Match list (without W/ and quotes).
function listedTags(header) {
  const out = new Set();
  if (typeof header !== 'string') return out;
  for (const m of header.matchAll(/(?:W\/)?"([^"]*)"/g)) out.add(m[1]);
  return out;
}

// 200 with an ETag over the data, or 304 when If-None-Match names it or the variant of the
// coding this request would get (compress::IfNoneMatchForHandler).
function conditional(req, reply, data, cacheControl) {
  const hex = crypto.createHash('sha256').update(data).digest('hex');
  if (cacheControl) reply.header('Cache-Control', cacheControl);
  const inm = req.headers['if-none-match'];
  const listed = listedTags(inm);
  const coding = negotiate(req.headers['accept-encoding']);
  const any = typeof inm === 'string' && inm.trim() === '*';
  if (any || listed.has(hex) || (coding !== null && listed.has(hex + '-' + coding))) {
    const variant = coding !== null && listed.has(hex + '-' + coding);
    reply.header('ETag', '"' + hex + (variant ? '-' + coding : '') + '"');
    commonHeaders(req, reply);
    return reply.code(304).send();
  }
  reply.header('ETag', '"' + hex + '"');
  return send(req, reply, 200, '{"success":true,"data":' + data + ',"meta":' + meta(req) + '}');
}

// The caller's claims, or null after answering 401.
function principal(req, reply) {
  const claims = verifyToken(req.headers.authorization);
  if (claims === kExpired) {
    reply.header('WWW-Authenticate', 'Bearer error="invalid_token"');
    fail(req, reply, 401, 'TOKEN_EXPIRED', 'The access token has expired');
    return null;
  }
  if (claims === null || !sessionUsable(claims.sid)) {
    reply.header('WWW-Authenticate', 'Bearer');
    fail(req, reply, 401, 'UNAUTHENTICATED', 'A valid access token is required');
    return null;
  }
  return claims;
}

function notServed(req, reply, what) {
  return fail(req, reply, 501, 'NOT_IMPLEMENTED', 'the Node.js baseline does not serve ' + what);
}

// ---- orders-list ----
const kListParameters = new Set([
  'status', 'paymentStatus', 'studentId', 'schoolId', 'dateFrom', 'dateTo', 'sort', 'limit',
  'cursor', 'includeTotal', 'fields',
]);
const kOrderStatuses = new Set([
  'pending', 'confirmed', 'preparing', 'ready', 'out_for_delivery', 'delivered', 'cancelled',
]);
const kPaymentStatuses = new Set(['pending', 'paid', 'failed', 'refunded']);
const kMaxMergedChildren = 8;

// Page order: created_at DESC, id DESC (fixed-width UTC text and lowercase UUIDs compare as the
// SQL sorts them).
function before(a, b) {
  if (a.created_at !== b.created_at) return a.created_at > b.created_at;
  return a.id > b.id;
}

// One statement for the scope and filters (orders_repo.cc ScopeAndFilters).
function pageStatement(scope, scopeId, f, limit) {
  const values = [];
  const where = [];
  const ph = (v) => {
    values.push(v);
    return '$' + values.length;
  };
  if (scope === 'parent') {
    where.push('o.student_id IN (SELECT u.id FROM users u WHERE u.parent_id = ' + ph(scopeId) + ')');
  } else if (scope === 'student') {
    where.push('o.student_id = ' + ph(scopeId));
  } else if (scope === 'school') {
    where.push('o.school_id = ' + ph(scopeId));
  }
  if (f.status !== undefined) where.push('o.status = ' + ph(f.status));
  if (f.paymentStatus !== undefined) where.push('o.payment_status = ' + ph(f.paymentStatus));
  if (f.dateFrom !== undefined) where.push('o.delivery_date >= ' + ph(f.dateFrom));
  if (f.dateTo !== undefined) where.push('o.delivery_date <= ' + ph(f.dateTo));
  const sql = 'SELECT ' + ORDER_COLUMNS + ' FROM orders o' +
      (where.length ? ' WHERE ' + where.join(' AND ') : '') +
      ' ORDER BY o.created_at DESC, o.id DESC LIMIT ' + ph(limit);
  return all(sql, values);
}

function noFilters(f) {
  return f.status === undefined && f.paymentStatus === undefined && f.dateFrom === undefined &&
      f.dateTo === undefined;
}

function listPage(scope, scopeId, f, limit) {
  if (scope === 'parent') {
    const children = all(kChildrenOfParent, [scopeId]);
    if (children.length <= kMaxMergedChildren) {
      const merged = [];
      for (const child of children) {
        const rows = noFilters(f) ? all(kOrdersOfStudentFirstPage, [child.id, limit]) :
                                    pageStatement('student', child.id, f, limit);
        for (const r of rows) merged.push(r);
      }
      merged.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      if (merged.length > limit) merged.length = limit;
      return merged;
    }
    if (noFilters(f)) return all(kOrdersOfParentFirstPage, [scopeId, limit]);
  } else if (scope === 'student' && noFilters(f)) {
    return all(kOrdersOfStudentFirstPage, [scopeId, limit]);
  }
  return pageStatement(scope, scopeId, f, limit);
}

app.get('/api/v1/orders', (req, reply) => {
  const claims = principal(req, reply);
  if (claims === null) return reply;
  const q = req.query;
  const issues = [];
  const f = {};
  for (const k of Object.keys(q)) {
    if (!kListParameters.has(k)) {
      issues.push({field: k, issue: 'is not a known parameter'});
    } else if (Array.isArray(q[k])) {
      issues.push({field: k, issue: 'is given more than once'});
    }
  }
  for (const k of ['studentId', 'schoolId', 'sort', 'cursor', 'includeTotal', 'fields']) {
    if (q[k] !== undefined && issues.length === 0) return notServed(req, reply, k + '= here');
  }
  const status = first(q.status);
  if (status !== undefined) {
    if (kOrderStatuses.has(status)) {
      f.status = status;
    } else {
      issues.push({
        field: 'status',
        issue: 'must be one of pending, confirmed, preparing, ready, out_for_delivery, ' +
            'delivered, cancelled',
      });
    }
  }
  const paymentStatus = first(q.paymentStatus);
  if (paymentStatus !== undefined) {
    if (kPaymentStatuses.has(paymentStatus)) {
      f.paymentStatus = paymentStatus;
    } else {
      issues.push({field: 'paymentStatus', issue: 'must be one of pending, paid, failed, refunded'});
    }
  }
  for (const name of ['dateFrom', 'dateTo']) {
    const v = first(q[name]);
    if (v === undefined) continue;
    if (isDate(v)) {
      f[name] = v;
    } else {
      issues.push({field: name, issue: 'must be a date YYYY-MM-DD'});
    }
  }
  if (f.dateFrom !== undefined && f.dateTo !== undefined && f.dateFrom > f.dateTo) {
    issues.push({field: 'dateTo', issue: 'must not be before dateFrom'});
  }
  let limit = 20;
  const limitText = first(q.limit);
  if (limitText !== undefined) {
    if (/^[0-9]{1,3}$/.test(limitText) && Number(limitText) >= 1 && Number(limitText) <= 100) {
      limit = Number(limitText);
    } else {
      issues.push({field: 'limit', issue: 'must be an integer between 1 and 100'});
    }
  }
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'Invalid query parameters', issues);
  }
  let rows;
  if (claims.role === 'parent') {
    rows = listPage('parent', claims.sub, f, limit + 1);
  } else if (claims.role === 'student') {
    rows = listPage('student', claims.sub, f, limit + 1);
  } else if (isStaff(claims)) {
    rows = claims.school === '' ? [] : listPage('school', claims.school, f, limit + 1);
  } else {
    rows = listPage('all', '', f, limit + 1);
  }
  const hasMore = rows.length > limit;
  if (hasMore) rows.pop();
  const students = new Map();
  const schools = new Map();
  const orders = new Array(rows.length);
  for (let i = 0; i < rows.length; ++i) {
    const o = rows[i];
    let s = students.get(o.student_id);
    if (s === undefined) {
      s = get(kStudentExtras, [o.student_id]) ||
          {first_name: '', last_name: '', grade: null, section: null};
      students.set(o.student_id, s);
    }
    let schoolName = schools.get(o.school_id);
    if (schoolName === undefined) {
      const r = get(kSchoolName, [o.school_id]);
      schoolName = r ? r.name : '';
      schools.set(o.school_id, schoolName);
    }
    orders[i] = {
      id: o.id,
      orderNumber: o.order_number,
      studentId: o.student_id,
      student: {
        id: o.student_id,
        firstName: s.first_name,
        lastName: s.last_name,
        grade: s.grade || null,
        section: s.section || null,
      },
      school: {id: o.school_id, name: schoolName},
      deliveryDate: o.delivery_date,
      status: o.status,
      paymentStatus: o.payment_status,
      totalAmount: o.total_amount_paise,
      currency: o.currency,
      itemCount: o.item_count,
      createdAt: o.created_at,
      updatedAt: o.updated_at,
    };
  }
  let nextCursor = null;
  if (hasMore) {
    const lastRow = rows[rows.length - 1];
    nextCursor = Buffer.from('c-|' + lastRow.created_at + '|' + lastRow.id).toString('base64url');
  }
  return conditional(req, reply, JSON.stringify({orders, pagination: {limit, nextCursor, hasMore}}));
});

// ---- users-get ----
function userNotFound(req, reply) {
  return fail(req, reply, 404, 'NOT_FOUND', 'The resource was not found');
}

function getUser(req, reply, idParam) {
  const claims = principal(req, reply);
  if (claims === null) return reply;
  if (last(req.query.fields)) return notServed(req, reply, 'fields= here');
  const id = idParam === 'me' ? claims.sub : idParam;
  if (!kUuid.test(id)) return userNotFound(req, reply);
  const u = get(kUserById, [id]);
  if (u === undefined || !kRoles.has(u.role)) return userNotFound(req, reply);
  // domain/access.cc CanSeeUser.
  let visible = isAdmin(claims) || claims.sub === u.id;
  if (!visible) {
    if (claims.role === 'parent') {
      visible = u.role === 'student' && u.parent_id === claims.sub;
    } else if (isStaff(claims)) {
      visible = actsInSchool(claims, u.school_id);
    } else if (claims.role === 'student') {
      // A student sees their own parent: the link lives on the student's row.
      const me = get(kUserById, [claims.sub]);
      visible = me !== undefined && !!me.parent_id && me.parent_id === u.id;
    }
  }
  if (!visible) return userNotFound(req, reply);
  let school = null;
  if (u.school_id) {
    const s = get(kSchoolById, [u.school_id]);
    if (s !== undefined) school = {id: s.id, name: s.name};
  }
  const children = [];
  if (u.role === 'parent') {
    for (const c of all(kChildrenDetails, [u.id])) {
      children.push({
        id: c.id,
        firstName: c.first_name,
        lastName: c.last_name,
        grade: c.grade || null,
        section: c.section || null,
      });
    }
  }
  // domain/user_service.cc PermissionsFor.
  const self = claims.sub === u.id;
  const permissions = {
    canEdit: self || isAdmin(claims) ||
        (claims.role === 'school_admin' && actsInSchool(claims, u.school_id)),
    canDelete: isAdmin(claims) && !self,
    canManageChildren: u.role === 'parent' && (self || isAdmin(claims)),
  };
  const data = JSON.stringify({
    id: u.id,
    email: u.email,
    firstName: u.first_name,
    lastName: u.last_name,
    role: u.role,
    schoolId: u.school_id || null,
    school,
    parentId: u.parent_id || null,
    children,
    isActive: !!u.is_active,
    createdAt: u.created_at,
    updatedAt: u.updated_at,
    permissions,
  });
  return conditional(req, reply, data, 'private, no-cache');
}

app.get('/api/v1/users/me', (req, reply) => getUser(req, reply, 'me'));
app.get('/api/v1/users/:id', (req, reply) => getUser(req, reply, req.params.id));

// ---- menus-daily ----
const todayFormats = new Map();
// The calendar date now in an IANA zone, YYYY-MM-DD.
function todayIn(zone) {
  let f = todayFormats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', {timeZone: zone, year: 'numeric', month: '2-digit',
                                          day: '2-digit'});
    todayFormats.set(zone, f);
  }
  return f.format(new Date());
}

function menuNotFound(req, reply) {
  return fail(req, reply, 404, 'MENU_NOT_FOUND', 'No menu was found for this school and date');
}

app.get('/api/v1/menus/daily', (req, reply) => {
  const claims = principal(req, reply);
  if (claims === null) return reply;
  const q = req.query;
  const issues = [];
  for (const k of Object.keys(q)) {
    if (k !== 'schoolId' && k !== 'date' && k !== 'fields') {
      issues.push({field: k, issue: 'is not a known parameter'});
    }
  }
  const schoolParam = last(q.schoolId);
  const date = last(q.date);
  if (schoolParam === undefined) {
    issues.push({field: 'schoolId', issue: 'is required'});
  } else if (!kUuid.test(schoolParam)) {
    issues.push({field: 'schoolId', issue: 'must be a UUID'});
  }
  if (date !== undefined && !isDate(date)) {
    issues.push({field: 'date', issue: 'must be a date YYYY-MM-DD'});
  }
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'Invalid query parameters', issues);
  }
  if (last(q.fields)) return notServed(req, reply, 'fields= here');
  const schoolId = schoolParam.toLowerCase();
  const school = get(kMenuSchool, [schoolId]);
  if (school === undefined) return menuNotFound(req, reply);
  // domain/menu_service.cc IsSchoolMember.
  let member;
  if (isAdmin(claims)) {
    member = true;
  } else if (isStaff(claims)) {
    member = actsInSchool(claims, schoolId);
  } else if (claims.role === 'student') {
    member = claims.school !== '' && claims.school === schoolId;
  } else {
    member = get(kParentHasChildInSchool, [claims.sub, schoolId]) !== undefined;
  }
  if (!member || (!school.is_active && !isAdmin(claims))) return menuNotFound(req, reply);
  let day = date;
  if (day === undefined) {
    try {
      day = todayIn(school.timezone);
    } catch (e) {
      return fail(req, reply, 503, 'UNAVAILABLE', 'the school\'s time zone is not known');
    }
  }
  const menu = get(kDailyMenuOfSchool, [schoolId, day]);
  if (menu === undefined) return menuNotFound(req, reply);
  if (!actsInSchool(claims, schoolId) && !(menu.is_published && menu.is_active)) {
    return menuNotFound(req, reply);
  }
  const items = [];
  for (const s of all(kDailyMenuSlots, [menu.id])) {
    let allergens = [];
    if (s.allergens !== null) {
      try {
        const parsed = JSON.parse(s.allergens);
        if (Array.isArray(parsed)) allergens = parsed;
      } catch (e) {
        // as hasivu: not a JSON array reads as none
      }
    }
    items.push({
      slotId: s.id,
      menuItemId: s.menu_item_id,
      name: s.name,
      description: s.description,
      category: s.category,
      price: s.price,
      currency: s.currency,
      imageUrl: s.image_url,
      allergens,
      calories: s.calories,
      availableQuantity: s.available_quantity,
      maxPerOrder: s.max_per_order,
      isSpecial: !!s.is_special,
      displayOrder: s.display_order,
    });
  }
  const data = JSON.stringify({
    id: menu.id,
    schoolId: menu.school_id,
    date: menu.date,
    dayType: menu.day_type,
    isPublished: !!menu.is_published,
    items,
  });
  return conditional(req, reply, data);
});

app.get('/healthz', (req, reply) => {
  reply.header('Content-Type', 'application/json').send('{"success":true,"data":{"status":"ok"}}');
});

// Everything else is not served by the baseline (hasivu bench notes it per function).
app.setNotFoundHandler((req, reply) => notServed(req, reply, req.method + ' ' + req.url));

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
