'use strict';
// Node.js baseline of hasivu bench's peer comparison: the three reads (orders-list, users-get,
// menus-daily) and the three writes (orders-create, payments-verify, rfid-verify-card) served
// from the SAME SQLite file hasivu uses, read-write, with the statements, transactions and rules
// hasivu's SQLite path runs today and the same responses (envelope, shape, error codes and
// details, ETag, Cache-Control, Location, X-Request-Id, compression). What a well-tuned Node.js
// service does for these calls:
//   - Fastify 5 + better-sqlite3 12 on one read-write connection tuned as hasivu tunes its own
//     (store/sqlite/sqlite_database.cc: WAL, synchronous = NORMAL, foreign keys on, 5 s busy
//     timeout, 32 MiB page cache, temp store in memory, no mmap: hasivu dropped it because a
//     commit made every other connection unmap and re-fault), every statement prepared once;
//     each write is one BEGIN IMMEDIATE transaction as hasivu's Write(), each read of several
//     statements before a write one BEGIN ... COMMIT snapshot as its Read(); WAL checkpoints as
//     hasivu's: PASSIVE, on a worker thread with a connection of its own once a commit of ours
//     leaves 8000 pages in the log, and on the committing thread from 64000 pages on;
//   - HS256 JWT checked as hasivu checks it (header alg pinned to HS256, HMAC-SHA256 compared in
//     constant time, iss/aud/iat/exp and the claims it needs), then the session family checked
//     against a 5 s in-process cache backed by the same query hasivu runs (auth_service.cc);
//   - orders-list (orders_repo.cc): a parent's page as the merge of each child's page (up to 8
//     children, else one statement), a student's page, a school's page for kitchen staff and
//     school admins with the date/status filters; students and schools by point lookup;
//   - users-get (domain/user_service.cc) and menus-daily (domain/menu_service.cc) with the same
//     visibility rules and 404s, a menu's "today" in the school's time zone;
//   - orders-create (api/orders_routes.cc, domain/order_service.cc, domain/idempotency.cc): the
//     body read and validated with hasivu's field issues; the Idempotency-Key claimed inside the
//     order's own transaction (request hash: SHA-256 of method, path and the canonical body, keys
//     sorted) and a stored answer replayed (Idempotent-Replayed) or refused for another body; the
//     student, access rules (domain/access.cc), school, delivery date in the school's zone, the
//     day's published menu, per-order limits, limited stock taken in slot id order; the order and
//     its lines with UUIDv7 ids and an ORD-YYYYMMDD-XXXXXXXX number (the school's date, 8
//     characters from the CSPRNG without modulo bias), 201 with Location;
//   - payments-verify (domain/payment_service.cc Verify, ApplyCaptured): the checkout signature
//     (lower-case hex HMAC-SHA256 of "<order id>|<payment id>" with the simulated gateway's key,
//     HASIVU_RAZORPAY_KEY_SECRET_FILE or HASIVU_RAZORPAY_KEY_SECRET, compared in constant time),
//     the payment order and its order in one snapshot, a recorded payment answered again, expiry;
//     then one transaction: the order locked, the payment transaction, the order paid and
//     confirmed, the payment order paid, the audit row;
//   - rfid-verify-card (domain/rfid_service.cc): lookups and delivery in one write transaction:
//     the card, reader, the student's paid order of today in the school's zone (or the orderId
//     given), 409 ALREADY_DELIVERED with the first verification; the verification row, the
//     card's last use, the order delivered, the audit row with address and user agent;
//   - a strong ETag = SHA-256 of the serialised data and If-None-Match → 304 (read_helpers.cc);
//   - responses of 1 KiB or more compressed as hasivu compresses a body for one response
//     (compress/settings.h: brotli at the per-request quality 1, gzip 5, chosen from
//     Accept-Encoding, sent only when smaller), synchronously on the one thread as hasivu does
//     (zstd is not in Node 20's zlib: br or gzip);
//   - hasivu's transport answers around them: 415 for a body that is not application/json,
//     413 beyond 64 KiB, 400 INVALID_JSON (also for text that is not UTF-8 or holds a lone
//     surrogate), store errors as its MapError maps them (busy → 503 with Retry-After).
// Not mirrored, and why:
//   - the simulated gateway's memory: hasivu's Verify asks the gateway for the payment
//     (FetchPayment), and the simulated gateway keeps its checkouts in hasivu's own memory, out
//     of another process's reach. So a payment whose checkout signature verifies is taken for
//     what that gateway makes of a successful checkout: captured, the payment order's amount and
//     currency, the method it derives from the payment id. A signed *failed* checkout, or a
//     payment id nobody checked out signed with the key, is recorded here where hasivu answers
//     422 PAYMENT_FAILED / PAYMENT_NOT_CAPTURED (hasivu bench sends neither). The Razorpay
//     gateway (an HTTPS fetch and capture) is not served: payments-verify is the simulated one's.
//   - what follows a commit in hasivu and is not the write: read-cache invalidation (the
//     baseline caches nothing, as hasivu --cache none), metrics and flow timers.
//   - numbers as JSON text: JavaScript's JSON.parse reads 2.0 and 2e0 as the integer 2 (hasivu:
//     "must be an integer") and integers beyond 2^53 inexactly, and the canonical body of the
//     idempotency hash writes a non-integer as JavaScript does, not as Boost.JSON; only bodies
//     hasivu refuses or fields it ignores differ.
//   - hasivu retries a transaction that lost to a concurrent writer; on one thread nothing
//     races, the loops are kept for the same answers when another process writes.
// What it does not serve answers 501 NOT_IMPLEMENTED (hasivu bench reports such a function as
// not served by the peer). One process, one request thread (Node's default). Loopback only.
//
// usage: node server.js <port> <sqlite db path>   (env HASIVU_JWT_SECRET: the server's secret;
//        HASIVU_JWT_ISSUER / HASIVU_JWT_AUDIENCE override "hasivu" / "hasivu-api";
//        HASIVU_RAZORPAY_KEY_SECRET_FILE or HASIVU_RAZORPAY_KEY_SECRET: the simulated gateway's
//        key, as hasivu bench gives it to every server of a run; without one payments-verify
//        answers 501)
// check.js compares its answers, and the rows it writes, with hasivu's on the same database.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const {isUtf8} = require('node:buffer');
const {performance} = require('node:perf_hooks');
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
// The simulated gateway's key, read as hasivu reads a secret file (app/config.cc ReadSecretFile:
// one trailing "\n" or "\r\n" dropped).
function gatewayKey() {
  const file = process.env.HASIVU_RAZORPAY_KEY_SECRET_FILE;
  if (!file) return process.env.HASIVU_RAZORPAY_KEY_SECRET || '';
  let text = fs.readFileSync(file, 'utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  return text;
}
const keySecret = gatewayKey();

const db = new Database(dbPath, {fileMustExist: true});
// The connection tuned as hasivu tunes each of its own (store/sqlite/sqlite_database.cc
// OpenConnection and OpenSqliteDatabase). No mmap_size: hasivu reads without memory mapping.
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
db.pragma('synchronous = NORMAL');
db.pragma('temp_store = MEMORY');
db.pragma('cache_size = -32768');
if (db.pragma('journal_mode = WAL', {simple: true}) !== 'wal') {
  console.error('server.js: cannot switch ' + dbPath + ' to WAL mode');
  process.exit(1);
}
// hasivu's writer-side backstop (DatabaseSettings::writer_checkpoint_pages): a PASSIVE
// checkpoint on the committing thread once the log holds this many pages. Below it the
// checkpointer thread does the work (startCheckpointer).
const kCheckpointPages = 8000;
const kWriterCheckpointPages = 64000;
db.pragma('wal_autocheckpoint = ' + kWriterCheckpointPages);

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
// INSERT/UPDATE/DELETE: how many rows it changed (hasivu's rows_affected).
const run = (sql, values) => stmt(sql).run(named(values)).changes;
// Rows as arrays, for statements whose columns hasivu reads by position (an unnamed expression
// such as COALESCE(...)); kept apart from `statements`, as raw mode belongs to the statement.
const rawStatements = new Map();
function rawStmt(sql) {
  let s = rawStatements.get(sql);
  if (s === undefined) {
    s = db.prepare(sql).raw(true);
    rawStatements.set(sql, s);
  }
  return s;
}
const rawAll = (sql, values) => rawStmt(sql).all(named(values));

// The checkpointer thread is told about our commits through this counter (a commit of hasivu's
// own, in its phases, is its checkpointer's business, as ours is not its).
const commits = new Int32Array(new SharedArrayBuffer(4));
// hasivu's Write(): BEGIN IMMEDIATE, the work, COMMIT; ROLLBACK when the work throws.
const inTransaction = db.transaction((fn) => fn());
function write(fn) {
  const out = inTransaction.immediate(fn);
  Atomics.add(commits, 0, 1);
  return out;
}
// hasivu's Read(): one snapshot (BEGIN ... COMMIT) for the statements of the callback.
const read = (fn) => inTransaction.deferred(fn);

// hasivu's checkpointer (SqliteDatabase::RunCheckpointer): PASSIVE checkpoints on a connection of
// its own off the request thread, asked for when a commit leaves kCheckpointPages or more in the
// log. SQLite has no commit hook in better-sqlite3, so the worker looks, every 10 ms after a
// commit of ours, at the log's size in the WAL index (the -shm file's header, a documented
// format: mxFrame at byte 16, nBackfill at byte 96, native byte order).
function startCheckpointer() {
  const {Worker} = require('node:worker_threads');
  const code = `
    'use strict';
    const fs = require('node:fs');
    const {workerData: w} = require('node:worker_threads');
    const Database = require(w.module);
    const db = new Database(w.db, {fileMustExist: true});
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    const header = Buffer.alloc(100);
    let fd = -1;
    let seen = 0;
    setInterval(() => {
      const now = Atomics.load(w.commits, 0);
      if (now === seen) return;
      seen = now;
      try {
        if (fd < 0) fd = fs.openSync(w.db + '-shm', 'r');
        if (fs.readSync(fd, header, 0, 100, 0) < 100) return;
        const frames = w.le ? header.readUInt32LE(16) : header.readUInt32BE(16);
        const backfilled = w.le ? header.readUInt32LE(96) : header.readUInt32BE(96);
        if (frames >= w.pages && backfilled < frames) {
          db.pragma('wal_checkpoint(PASSIVE)');
          seen = -1;  // look again next round: readers may have held part of it back
        }
      } catch (e) {
        // As hasivu's: an error leaves the log as it was; a later commit asks again.
      }
    }, 10);
  `;
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      module: require.resolve('better-sqlite3'),
      db: dbPath,
      commits,
      pages: kCheckpointPages,
      le: os.endianness() === 'LE',
    },
  });
  worker.unref();
  worker.on('error', (err) => console.error('checkpointer: ' + err.message));
  return worker;
}
const checkpointer = startCheckpointer();

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
// A client's X-Request-Id is kept when it is sane, as hasivu keeps it (http/connection.cc
// IsSaneRequestId); else one is made.
const kSaneRequestId = /^[A-Za-z0-9._-]{1,64}$/;
const app = fastify({
  logger: false,
  // hasivu's max_body_bytes (http/server.h): larger → 413.
  bodyLimit: 65536,
  genReqId: (req) => {
    const theirs = req.headers['x-request-id'];
    if (typeof theirs === 'string' && kSaneRequestId.test(theirs)) return theirs;
    return ridPrefix + '-' + (++counter).toString(16).padStart(12, '0');
  },
});
// Bodies arrive as bytes, whatever their type: hasivu answers a body that is not
// application/json with 415, and text that is not JSON with its own 400 (parseBody).
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', {parseAs: 'buffer'}, (req, body, done) => done(null, body));

// Microseconds since the epoch on the wall clock. JavaScript's Date stops at milliseconds;
// performance.now() adds the rest, anchored to Date.now() again whenever the two drift apart.
let clockAnchor = Date.now() - performance.now();
function nowMicros() {
  const ms = Date.now();
  let t = clockAnchor + performance.now();
  if (t < ms || t >= ms + 2) {
    clockAnchor = ms - performance.now();
    t = ms;
  }
  return Math.floor(t * 1000);
}
// RFC 3339 UTC with microseconds, as hasivu writes instants (common/time_util.cc FormatRfc3339).
function formatMicros(us) {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, -1) + String(us - ms * 1000).padStart(3, '0') + 'Z';
}
function isoMicros() {
  return formatMicros(nowMicros());
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
  // A transport error (413) is answered before hasivu has the request's headers.
  if (req.headers.authorization !== undefined && !reply.hasHeader('Cache-Control') &&
      !req.transportError) {
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
  if (details && details.length > 0) error.details = details;
  if (status === 503 || status === 429) reply.header('Retry-After', '1');
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

// ---- the writes: shared pieces ----

// A refusal of the domain, as hasivu's Status with a reason reaches the client through
// ErrorFromStatus: thrown inside a transaction, it rolls the transaction back.
class Refusal extends Error {
  constructor(status, code, message, details, retry = false) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    // An AbortedError without a reason: hasivu runs the transaction again.
    this.retry = retry;
  }
}
const refuse = (status, code, message, details) => {
  throw new Refusal(status, code, message, details);
};
// A kInvalidArgument without a reason and a message not written for clients (e.g. an unknown
// time zone): 400 VALIDATION_ERROR with the generic text (api/envelope.cc GenericMessage).
const kInvalid = () => new Refusal(400, 'VALIDATION_ERROR', 'The request is invalid');

// A store error as hasivu's MapError and ErrorFromStatus answer it, without the driver's text.
function storeRefusal(err) {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new Refusal(409, 'CONFLICT',
                       'The request conflicts with the current state of the resource');
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new Refusal(422, 'UNPROCESSABLE', 'The request cannot be processed in the current state');
  }
  for (const busy of ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN',
    'SQLITE_FULL', 'SQLITE_PROTOCOL']) {
    if (code.startsWith(busy)) {
      return new Refusal(503, 'UNAVAILABLE', 'The service is temporarily unavailable');
    }
  }
  if (code.startsWith('SQLITE_NOMEM')) return new Refusal(429, 'RATE_LIMITED', 'Too many requests');
  return null;
}

// A write handler: a Refusal or a store error answered as hasivu answers it.
function writeRoute(handler) {
  return (req, reply) => {
    try {
      return handler(req, reply);
    } catch (err) {
      const r = err instanceof Refusal ? err : storeRefusal(err);
      if (r === null) throw err;  // the error handler: 500 INTERNAL
      return fail(req, reply, r.status, r.code, r.message, r.details);
    }
  };
}

// hasivu's transport check before any handler (http/connection.cc IsJsonContentType): a body
// must be application/json (parameters allowed).
function jsonContentType(req) {
  const body = req.body;
  if (body === undefined || body.length === 0) return true;
  const type = req.headers['content-type'];
  if (typeof type !== 'string') return false;
  const semi = type.indexOf(';');
  return (semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

// What hasivu's api/envelope.cc ParseJsonObject refuses besides text that is not JSON: Boost.JSON
// refuses lone surrogates (JSON.parse keeps them), and NUL in a string or key is refused.
function scanJson(v, found) {
  if (typeof v === 'string') {
    if (!v.isWellFormed()) found.lone = true;
    if (v.includes('\0')) found.nul = true;
  } else if (Array.isArray(v)) {
    for (const e of v) scanJson(e, found);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      if (!k.isWellFormed()) found.lone = true;
      if (k.includes('\0')) found.nul = true;
      scanJson(v[k], found);
    }
  }
}

// The request body as a JSON object, or null after answering as ParseJsonObject does.
function parseBody(req, reply) {
  const buf = req.body === undefined ? Buffer.alloc(0) : req.body;
  let v;
  try {
    if (!isUtf8(buf)) throw new Error('not UTF-8');
    v = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    fail(req, reply, 400, 'INVALID_JSON', 'The request body is not valid JSON');
    return null;
  }
  const found = {lone: false, nul: false};
  scanJson(v, found);
  if (found.lone) {
    fail(req, reply, 400, 'INVALID_JSON', 'The request body is not valid JSON');
    return null;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    fail(req, reply, 400, 'VALIDATION_ERROR', 'The request body must be a JSON object');
    return null;
  }
  if (found.nul) {
    fail(req, reply, 400, 'VALIDATION_ERROR', 'The request body holds a NUL character');
    return null;
  }
  return v;
}

// api/body_reader.cc: a member absent or null is "not given" ("is required" when it must be),
// and one issue per member of the wrong type.
const member = (o, key) => (Object.hasOwn(o, key) && o[key] !== null ? o[key] : undefined);
function readString(o, key, field, required, issues) {
  const v = member(o, key);
  if (v === undefined) {
    if (required) issues.push({field: field || key, issue: 'is required'});
    return undefined;
  }
  if (typeof v !== 'string') {
    issues.push({field: field || key, issue: 'must be a string'});
    return undefined;
  }
  return v;
}
// A JSON integer that fits int64 (Boost.JSON: beyond it a uint64 "is too large", else a double).
function readInt(o, key, field, required, issues) {
  const v = member(o, key);
  if (v === undefined) {
    if (required) issues.push({field: field || key, issue: 'is required'});
    return undefined;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) return v;
  const tooLarge = typeof v === 'number' && Number.isInteger(v) && v >= 2 ** 63 && v < 2 ** 64;
  issues.push({field: field || key, issue: tooLarge ? 'is too large' : 'must be an integer'});
  return undefined;
}

// UUIDv7 as hasivu mints them (common/ids.cc NewUuidV7): 48 bits of Unix milliseconds, version 7,
// the variant, 74 random bits. randomUUID() supplies the random bits and the variant (from a
// cached CSPRNG buffer); the time and version are written over its first bits.
function uuidV7(ms) {
  const hex = ms.toString(16).padStart(12, '0');
  const r = crypto.randomUUID();
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-7' + r.slice(15);
}

// n characters of `alphabet` from the CSPRNG, uniform as libsodium's randombytes_uniform: bytes
// at or above the largest multiple of the alphabet's size are drawn again.
const randomPool = Buffer.alloc(4096);
let randomAt = randomPool.length;
function randomByte() {
  if (randomAt === randomPool.length) {
    crypto.randomFillSync(randomPool);
    randomAt = 0;
  }
  return randomPool[randomAt++];
}
function randomString(n, alphabet) {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < n) {
    const b = randomByte();
    if (b < limit) out += alphabet[b % alphabet.length];
  }
  return out;
}
const kUpperAlphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

// Days since the epoch of a YYYY-MM-DD (checked by isDate), and back.
const dayNumber = (d) =>
  Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))) / 86400000;
const isoWeekday = (n) => ((new Date(n * 86400000).getUTCDay() + 6) % 7) + 1;
// "Today" in the school's zone, or the 400 of an unknown zone (common/time_util.cc LocalDate).
function localDate(zone) {
  try {
    return todayIn(zone);
  } catch (e) {
    throw kInvalid();
  }
}

// UTF-8 byte order of two strings (std::string's operator<): UTF-16 order but for the code units
// of surrogate pairs, whose characters come after all others in UTF-8.
function utf8Compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ++i) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && x <= 0xdfff) x += 0x10000;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x10000;
    return x - y;
  }
  return a.length - b.length;
}

// ---- orders-create ----
const kFindOrderStudent =
    'SELECT u.id, u.role, u.school_id, u.parent_id, u.is_active, u.status,' +
    ' u.first_name, u.last_name, u.grade, u.section, sc.name, sc.timezone,' +
    ' sc.is_active' +
    ' FROM users u LEFT JOIN schools sc ON sc.id = u.school_id WHERE u.id = $1';
// store/hot_queries.h kDailyMenuSlots, read by position (menus_repo.cc ListMenuSlots).
const kMenuSlotsOfDay = 'SELECT s.id, s.menu_item_id, m.name, m.description, s.category,' +
    ' COALESCE(s.custom_price_paise, m.price_paise), m.currency, m.image_url, m.allergens,' +
    ' m.calories, s.available_quantity, s.max_per_order, s.is_special, s.display_order' +
    ' FROM menu_item_slots s JOIN menu_items m ON m.id = s.menu_item_id' +
    ' WHERE s.daily_menu_id = $1 ORDER BY s.display_order';
const kTakeSlotStock = 'UPDATE menu_item_slots SET available_quantity =' +
    ' available_quantity - $2' +
    ' WHERE id = $1 AND available_quantity >= $2';
const kInsertOrder =
    'INSERT INTO orders (id, order_number, user_id, student_id, school_id, status,' +
    ' payment_status, total_amount_paise, currency, delivery_date,' +
    ' special_instructions, allergy_info, created_at, updated_at, item_count)' +
    " VALUES ($1, $2, $3, $4, $5, 'pending', 'pending', $6, $7, $8, $9, $10, $11," +
    ' $11, $12) ON CONFLICT (order_number) DO NOTHING';
const kInsertOrderItem =
    'INSERT INTO order_items (id, order_id, menu_item_id, slot_id, name, quantity,' +
    ' unit_price_paise, total_price_paise, notes, created_at, updated_at)' +
    ' VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)';
// store/idempotency_repo.cc
const kClaimIdempotencyKey =
    'INSERT INTO idempotency_keys (id, user_id, key, request_method, request_path,' +
    ' request_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)' +
    ' ON CONFLICT (user_id, key) DO NOTHING';
const kFindIdempotencyKey = 'SELECT id, request_hash, response_status, response_body,' +
    ' resource_id, expires_at FROM idempotency_keys' +
    ' WHERE user_id = $1 AND key = $2';
const kDeleteIdempotencyKey = 'DELETE FROM idempotency_keys WHERE id = $1';
const kCompleteIdempotencyKey =
    'UPDATE idempotency_keys SET response_status = $2, response_body = $3,' +
    ' resource_id = $4 WHERE id = $1';

const kMaxOrderLines = 20;
const kMaxLineQuantity = 10;
const kMaxNotesLength = 500;
const kMaxInstructionsLength = 1000;
const kMaxDaysAhead = 30;
const kIdempotencyTtlMicros = 24 * 3600 * 1e6;

// api/orders_routes.cc ReadCreateOrder: types and presence, one issue per problem.
function readCreateOrder(body, issues) {
  const input = {
    studentId: readString(body, 'studentId', '', true, issues) ?? '',
    deliveryDate: readString(body, 'deliveryDate', '', true, issues) ?? '',
    specialInstructions: readString(body, 'specialInstructions', '', false, issues),
    allergyInfo: readString(body, 'allergyInfo', '', false, issues),
    items: [],
  };
  const lines = member(body, Object.hasOwn(body, 'items') ? 'items' : 'orderItems');
  if (lines === undefined) {
    issues.push({field: 'items', issue: 'is required'});
    return input;
  }
  if (!Array.isArray(lines)) {
    issues.push({field: 'items', issue: 'must be an array'});
    return input;
  }
  if (lines.length === 0 || lines.length > kMaxOrderLines) {
    issues.push({field: 'items', issue: 'must have 1-20 lines'});
    return input;
  }
  for (let i = 0; i < lines.length; ++i) {
    const at = 'items[' + i + ']';
    const line = lines[i];
    if (line === null || typeof line !== 'object' || Array.isArray(line)) {
      issues.push({field: at, issue: 'must be an object'});
      continue;
    }
    input.items.push({
      menuItemId: readString(line, 'menuItemId', at + '.menuItemId', true, issues) ?? '',
      quantity: readInt(line, 'quantity', at + '.quantity', true, issues) ?? 1,
      notes: readString(line, 'notes', at + '.notes', false, issues),
    });
  }
  return input;
}

// domain/order_service.cc ValidateCreateOrder (lengths in bytes, as std::string::size()).
function validateCreateOrder(input) {
  const issues = [];
  if (!kUuid.test(input.studentId)) issues.push({field: 'studentId', issue: 'must be a UUID'});
  if (!isDate(input.deliveryDate)) {
    issues.push({field: 'deliveryDate', issue: 'must be a date YYYY-MM-DD'});
  }
  if (input.items.length === 0 || input.items.length > kMaxOrderLines) {
    issues.push({field: 'items', issue: 'must have 1-20 lines'});
  }
  for (let i = 0; i < input.items.length && i < kMaxOrderLines; ++i) {
    const line = input.items[i];
    const at = 'items[' + i + '].';
    if (!kUuid.test(line.menuItemId)) issues.push({field: at + 'menuItemId', issue: 'must be a UUID'});
    if (line.quantity < 1 || line.quantity > kMaxLineQuantity) {
      issues.push({field: at + 'quantity', issue: 'must be between 1 and 10'});
    }
    if (line.notes !== undefined &&
        (Buffer.byteLength(line.notes) > kMaxNotesLength || line.notes.includes('\0'))) {
      issues.push({field: at + 'notes', issue: 'must be at most 500 characters without NUL'});
    }
  }
  for (const field of ['specialInstructions', 'allergyInfo']) {
    const t = input[field];
    if (t !== undefined && (Buffer.byteLength(t) > kMaxInstructionsLength || t.includes('\0'))) {
      issues.push({field, issue: 'must be at most 1000 characters without NUL'});
    }
  }
  return issues;
}

// api/orders_routes.cc Canonical: object keys sorted (UTF-8 byte order), recursively, so that
// formatting and key order do not change an Idempotency-Key's request hash.
function canonical(v) {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort(utf8Compare);
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical(v[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

// domain/idempotency.cc IdempotencyRequestHash: SHA-256 of length-prefixed parts, lower-case hex.
function requestHash(method, path, body) {
  const h = crypto.createHash('sha256');
  for (const part of [method, path, body]) h.update(Buffer.byteLength(part) + ':').update(part);
  return h.digest('hex');
}

// domain/idempotency.cc ClaimIdempotencyKey, inside the order's transaction: {claimId} when
// this request owns the key, {replay} when a stored answer is to be sent again.
function claimIdempotencyKey(idem, now) {
  const nowText = formatMicros(now);
  const expires = formatMicros(now + kIdempotencyTtlMicros);
  for (let round = 0; round < 2; ++round) {
    const claimId = uuidV7(Math.floor(now / 1000));
    if (run(kClaimIdempotencyKey, [claimId, idem.userId, idem.key, idem.method, idem.path,
      idem.hash, nowText, expires]) === 1) {
      return {claimId};
    }
    const row = get(kFindIdempotencyKey, [idem.userId, idem.key]);
    if (row === undefined) continue;  // removed meanwhile; claim again
    if (row.expires_at <= nowText) {  // fixed-width UTC text: compares as the instants
      run(kDeleteIdempotencyKey, [row.id]);
      continue;
    }
    if (row.request_hash !== idem.hash) {
      refuse(422, 'IDEMPOTENCY_KEY_REUSED',
             'This Idempotency-Key was already used with a different request');
    }
    if (row.response_status === null) {
      refuse(409, 'IDEMPOTENCY_KEY_IN_PROGRESS', 'A request with this Idempotency-Key is in progress');
    }
    return {replay: {status: row.response_status, body: row.response_body ?? '',
      orderId: row.resource_id ?? ''}};
  }
  return refuse(409, 'IDEMPOTENCY_KEY_IN_PROGRESS',
                'Idempotency-Key could not be claimed; retry');
}

// domain/order_service.cc CheckDeliveryDate.
function checkDeliveryDate(delivery, today) {
  const d = dayNumber(delivery);
  const t = dayNumber(today);
  let issue = null;
  if (d <= t) {
    issue = 'must be tomorrow or later';
  } else if (d > t + kMaxDaysAhead) {
    issue = 'must be at most 30 days ahead';
  } else if (isoWeekday(d) > 5) {
    issue = 'must be a weekday (Monday-Friday)';
  }
  if (issue !== null) {
    refuse(422, 'INVALID_DELIVERY_DATE', 'Orders cannot be delivered on that date',
           [{field: 'deliveryDate', issue}]);
  }
}

// The transaction of domain/order_service.cc OrderService::Create: {status, body, orderId,
// replayed}, or a Refusal.
function createOrderAttempt(claims, input, idem) {
  const now = nowMicros();
  const nowMs = Math.floor(now / 1000);
  const nowText = formatMicros(now);
  let claim = null;
  if (idem !== null) {
    claim = claimIdempotencyKey(idem, now);
    if (claim.replay) return {...claim.replay, replayed: true};
  }
  const notFound = () => refuse(404, 'STUDENT_NOT_FOUND', 'The student was not found');
  const r = rawAll(kFindOrderStudent, [input.studentId])[0];
  if (r === undefined || r[1] !== 'student') notFound();
  const student = {
    id: r[0], schoolId: r[2] ?? '', parentId: r[3] ?? '', active: !!r[4] && r[5] === 'active',
    firstName: r[6], lastName: r[7], grade: r[8], section: r[9], schoolName: r[10] ?? '',
    timezone: r[11] ?? '', schoolActive: r[12] !== null && !!r[12],
  };
  // domain/access.cc CanSeeUser and CanOrderFor, for a student.
  let visible = isAdmin(claims) || claims.sub === student.id;
  if (!visible && claims.role === 'parent') visible = student.parentId === claims.sub;
  if (!visible && isStaff(claims)) visible = actsInSchool(claims, student.schoolId);
  if (!visible) notFound();
  let mayOrder = false;
  if (isAdmin(claims)) {
    mayOrder = true;
  } else if (claims.role === 'parent') {
    mayOrder = student.parentId !== '' && student.parentId === claims.sub;
  } else if (claims.role === 'student') {
    mayOrder = student.id === claims.sub;
  } else if (claims.role === 'school_admin') {
    mayOrder = actsInSchool(claims, student.schoolId);
  }
  if (!mayOrder) refuse(403, 'FORBIDDEN', 'This action is not allowed');
  if (!student.active) refuse(422, 'STUDENT_INACTIVE', 'The student\'s account is not active');
  if (student.schoolId === '' || !student.schoolActive) {
    refuse(422, 'SCHOOL_INACTIVE', 'The student\'s school is not active');
  }
  const today = localDate(student.timezone);
  checkDeliveryDate(input.deliveryDate, today);

  const menu = get(kDailyMenuOfSchool, [student.schoolId, input.deliveryDate]);
  if (menu === undefined || !menu.is_published || !menu.is_active) {
    refuse(422, 'MENU_NOT_AVAILABLE', 'No menu is published for that day',
           [{field: 'deliveryDate', issue: 'has no published menu'}]);
  }
  // The ties of display_order in slot id order, as ListMenuSlots sorts them.
  const slots = rawAll(kMenuSlotsOfDay, [menu.id]).map((s) => ({
    slotId: s[0], menuItemId: s[1], name: s[2], price: s[5], currency: s[6],
    availableQuantity: s[10], maxPerOrder: s[11], displayOrder: s[13],
  }));
  slots.sort((a, b) => (a.displayOrder !== b.displayOrder ? a.displayOrder - b.displayOrder :
                        utf8Compare(a.slotId, b.slotId)));
  const byItem = new Map();
  for (const s of slots) if (!byItem.has(s.menuItemId)) byItem.set(s.menuItemId, s);

  // Lines resolved against the menu; quantities summed per slot for the per-order limit.
  const lineSlot = new Array(input.items.length);
  const perSlot = new Map();
  const missing = [];
  for (let i = 0; i < input.items.length; ++i) {
    const s = byItem.get(input.items[i].menuItemId.toLowerCase());
    if (s === undefined) {
      missing.push({field: 'items[' + i + '].menuItemId', issue: 'is not on the menu of that day'});
      continue;
    }
    lineSlot[i] = s;
    perSlot.set(s.slotId, (perSlot.get(s.slotId) || 0) + input.items[i].quantity);
  }
  if (missing.length > 0) {
    refuse(422, 'ITEM_NOT_ON_MENU', 'An item is not on that day\'s menu', missing);
  }
  const tooMany = [];
  for (let i = 0; i < input.items.length; ++i) {
    const s = lineSlot[i];
    if (s.maxPerOrder !== null && perSlot.get(s.slotId) > s.maxPerOrder) {
      tooMany.push({field: 'items[' + i + '].quantity',
        issue: 'exceeds the limit of ' + s.maxPerOrder + ' per order'});
    }
  }
  if (tooMany.length > 0) {
    refuse(422, 'MAX_PER_ORDER_EXCEEDED', 'A quantity exceeds the per-order limit', tooMany);
  }
  // Limited stock, in slot id order (hasivu's std::map) so concurrent orders lock alike.
  for (const slotId of [...perSlot.keys()].sort(utf8Compare)) {
    const s = slots.find((c) => c.slotId === slotId);
    if (s === undefined || s.availableQuantity === null) continue;
    if (run(kTakeSlotStock, [slotId, perSlot.get(slotId)]) !== 1) {
      const details = [];
      for (let i = 0; i < input.items.length; ++i) {
        if (lineSlot[i].slotId === slotId) {
          details.push({field: 'items[' + i + '].menuItemId', issue: 'is sold out'});
        }
      }
      refuse(409, 'SOLD_OUT', 'An item is sold out', details);
    }
  }

  const orderId = uuidV7(nowMs);
  const items = [];
  let total = 0;
  for (let i = 0; i < input.items.length; ++i) {
    const s = lineSlot[i];
    const quantity = input.items[i].quantity;
    // Ids minted one millisecond apart sort in line order (orders_repo.cc reads by id).
    items.push({
      id: uuidV7(nowMs + i), menuItemId: s.menuItemId, slotId: s.slotId, name: s.name, quantity,
      unitPrice: s.price, totalPrice: s.price * quantity, notes: input.items[i].notes ?? null,
    });
    total += s.price * quantity;
  }
  const currency = lineSlot[0].currency;
  const special = input.specialInstructions ?? null;
  const allergy = input.allergyInfo ?? null;
  const dateDigits = today.replaceAll('-', '');
  let orderNumber = '';
  let inserted = false;
  for (let tries = 0; tries < 5 && !inserted; ++tries) {
    orderNumber = 'ORD-' + dateDigits + '-' + randomString(8, kUpperAlphanumeric);
    inserted = run(kInsertOrder, [orderId, orderNumber, claims.sub, student.id, student.schoolId,
      total, currency, input.deliveryDate, special, allergy, nowText, items.length]) === 1;
  }
  if (!inserted) throw new Error('no free order number after 5 tries');
  for (const it of items) {
    run(kInsertOrderItem, [it.id, orderId, it.menuItemId, it.slotId, it.name, it.quantity,
      it.unitPrice, it.totalPrice, it.notes, nowText]);
  }
  // api/orders_routes.cc OrderDetailData: the list's members, then the detail's.
  const body = JSON.stringify({
    order: {
      id: orderId,
      orderNumber,
      studentId: student.id,
      student: {id: student.id, firstName: student.firstName, lastName: student.lastName,
        grade: student.grade, section: student.section},
      school: {id: student.schoolId, name: student.schoolName},
      deliveryDate: input.deliveryDate,
      status: 'pending',
      paymentStatus: 'pending',
      totalAmount: total,
      currency,
      itemCount: items.length,
      createdAt: nowText,
      updatedAt: nowText,
      items: items.map((it) => ({id: it.id, menuItemId: it.menuItemId, name: it.name,
        quantity: it.quantity, unitPrice: it.unitPrice, totalPrice: it.totalPrice,
        notes: it.notes})),
      specialInstructions: special,
      allergyInfo: allergy,
    },
  });
  if (claim !== null) run(kCompleteIdempotencyKey, [claim.claimId, 201, body, orderId]);
  return {status: 201, body, orderId, replayed: false};
}

// The first value of a header sent more than once (hasivu's Headers::Find); Node joins them.
function firstHeader(req, name) {
  const joined = req.headers[name];
  if (joined === undefined || !joined.includes(',')) return joined;
  const raw = req.raw.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === name) return raw[i + 1];
  }
  return joined;
}

app.post('/api/v1/orders', writeRoute((req, reply) => {
  if (!jsonContentType(req)) return unsupportedMediaType(req, reply);
  const claims = principal(req, reply);
  if (claims === null) return reply;
  let idem = null;
  const key = firstHeader(req, 'idempotency-key');
  if (key !== undefined) {
    // domain/idempotency.cc ValidateIdempotencyKey: 1-255 printable ASCII characters.
    if (!/^[\x20-\x7e]{1,255}$/.test(key)) {
      return fail(req, reply, 400, 'VALIDATION_ERROR', 'Invalid Idempotency-Key header',
                  [{field: 'Idempotency-Key', issue: 'must be 1-255 printable ASCII characters'}]);
    }
    idem = {userId: claims.sub, key, method: 'POST', path: '/api/v1/orders', hash: ''};
  }
  const body = parseBody(req, reply);
  if (body === null) return reply;
  let issues = [];
  const input = readCreateOrder(body, issues);
  if (issues.length === 0) issues = validateCreateOrder(input);
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'The order is not valid', issues);
  }
  if (idem !== null) idem.hash = requestHash(idem.method, idem.path, canonical(body));
  // A transaction that lost to a concurrent writer (a reason-less abort) runs again.
  let created;
  for (let tries = 0; ; ++tries) {
    try {
      created = write(() => createOrderAttempt(claims, input, idem));
      break;
    } catch (err) {
      if (!(err instanceof Refusal) || !err.retry || tries >= 2) throw err;
    }
  }
  reply.header('Location', '/api/v1/orders/' + created.orderId);
  if (created.replayed) reply.header('Idempotent-Replayed', 'true');
  return send(req, reply, created.status,
              '{"success":true,"data":' + created.body + ',"meta":' + meta(req) + '}');
}));

function unsupportedMediaType(req, reply) {
  return fail(req, reply, 415, 'UNSUPPORTED_MEDIA_TYPE',
              'The request body must be sent as application/json');
}

// ---- payments-verify ----
// store/payments_repo.cc
const kPaymentOrderColumns =
    'id, gateway_order_id, gateway, order_id, user_id, amount_paise, currency, status, ' +
    'receipt, expires_at, paid_at, created_at';
const kTransactionColumns =
    'id, gateway_payment_id, payment_order_id, amount_paise, currency, status, method, gateway, ' +
    'signature, error_code, error_description, captured_at, created_at';
const kPaymentOrderByGatewayId = 'SELECT ' + kPaymentOrderColumns +
    ' FROM payment_orders WHERE gateway_order_id = $1';
const kPayableOrder = 'SELECT o.id, o.order_number, o.user_id, o.student_id, s.parent_id, ' +
    'o.school_id, o.status, o.payment_status, o.total_amount_paise, ' +
    'o.currency FROM orders o JOIN users s ON s.id = o.student_id ' +
    'WHERE o.id = $1';
const kTransactionByGatewayPaymentId = 'SELECT ' + kTransactionColumns +
    ' FROM payment_transactions WHERE gateway_payment_id = $1';
const kLockOrder = 'UPDATE orders SET updated_at = updated_at WHERE id = $1';
const kInsertTransactionIfAbsent =
    'INSERT INTO payment_transactions (id, gateway_payment_id, payment_order_id, ' +
    'amount_paise, currency, status, method, gateway, signature, error_code, ' +
    'error_description, captured_at, created_at, updated_at) VALUES ($1, $2, $3, $4, ' +
    '$5, $6, $7, $8, $9, $10, $11, $12, $13, $13) ' +
    'ON CONFLICT (gateway_payment_id) DO NOTHING RETURNING id';
const kMarkOrderPaid =
    "UPDATE orders SET payment_status = 'paid', status = 'confirmed', updated_at = $2 " +
    "WHERE id = $1 AND status = 'pending' AND payment_status IN ('pending', 'failed')";
const kUpdatePaymentOrderStatus =
    'UPDATE payment_orders SET status = $2, paid_at = COALESCE($3, paid_at), ' +
    'updated_at = $4 WHERE id = $1';
const kInsertAuditLog =
    'INSERT INTO audit_logs (id, entity_type, entity_id, action, changes, user_id, ' +
    'request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)';

// payments/simulated/simulated_gateway.cc: the method a checkout's payment id stands for.
const kPaymentMethods = ['upi', 'card', 'netbanking', 'wallet'];

// domain/payment_service.cc IsGatewayId: "order_"/"pay_" + alphanumerics, at most 64 in all.
function isGatewayId(id, prefix) {
  return id.length > prefix.length && id.length <= 64 && id.startsWith(prefix) &&
      /^[A-Za-z0-9]+$/.test(id.slice(prefix.length));
}

// payments/signature.cc VerifyCheckoutSignature: lower-case hex HMAC-SHA256, constant time.
function checkoutSignatureValid(orderId, paymentId, signature) {
  const want = Buffer.from(crypto.createHmac('sha256', keySecret)
                               .update(orderId + '|' + paymentId).digest('hex'));
  const got = Buffer.from(signature);
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

// domain/payment_service.cc OwnsPaymentOrder.
function ownsPaymentOrder(claims, po, order) {
  return isAdmin(claims) || claims.sub === po.user_id || claims.sub === order.user_id ||
      (claims.role === 'parent' && !!order.parent_id && claims.sub === order.parent_id);
}

function isExpired(po, nowText) {
  if (po.status === 'expired') return true;
  if (po.status !== 'created' && po.status !== 'attempted') return false;
  return po.expires_at <= nowText;
}

const paymentOrderNotFound = () =>
  refuse(404, 'PAYMENT_ORDER_NOT_FOUND', 'payment order not found');
const alreadyPaid = () =>
  refuse(409, 'ALREADY_PAID', 'the order has already been paid by another payment');
const paymentFailed = () => refuse(422, 'PAYMENT_FAILED', 'the payment failed at the gateway');
// api/payments_routes.cc PaymentError: the one answer outside the mapping, 410 Gone.
const paymentOrderExpired = () =>
  refuse(410, 'PAYMENT_ORDER_EXPIRED', 'the payment order has expired; create a new one');
const recordedView = (t, orderId) => ({paymentId: t.gateway_payment_id, orderId,
  amount: t.amount_paise, currency: t.currency, status: 'captured',
  verifiedAt: t.captured_at ?? t.created_at});

// PaymentService::ApplyCaptured's transaction for a payment captured at the gateway.
function applyCaptured(gatewayOrderId, payment, signature, actorId, requestId) {
  const now = nowMicros();
  const nowText = formatMicros(now);
  // LockPaymentOrder: every payment change of an order happens under the order's row lock.
  const po = get(kPaymentOrderByGatewayId, [gatewayOrderId]);
  if (po === undefined || !po.order_id) paymentOrderNotFound();
  if (run(kLockOrder, [po.order_id]) === 0) refuse(404, 'ORDER_NOT_FOUND', 'order not found');
  const recorded = get(kTransactionByGatewayPaymentId, [payment.id]);
  if (recorded !== undefined) {
    if (recorded.payment_order_id !== po.id) alreadyPaid();
    if (recorded.status === 'failed') paymentFailed();
    return recordedView(recorded, po.order_id);
  }
  const order = get(kPayableOrder, [po.order_id]);
  if (order === undefined) refuse(404, 'ORDER_NOT_FOUND', 'order not found');
  if (order.payment_status === 'paid' || po.status === 'paid') alreadyPaid();
  if (isExpired(po, nowText)) paymentOrderExpired();
  if (order.status !== 'pending' || order.payment_status === 'refunded') {
    refuse(422, 'ORDER_NOT_PAYABLE', 'the order is ' + order.status + '; it can no longer be paid');
  }
  const inserted = get(kInsertTransactionIfAbsent, [uuidV7(Math.floor(now / 1000)), payment.id,
    po.id, payment.amount, payment.currency, 'captured', payment.method || null, po.gateway,
    signature || null, null, null, nowText, nowText]);
  if (inserted === undefined) {
    throw new Refusal(409, 'CONFLICT', 'payment recorded concurrently', undefined, true);
  }
  if (run(kMarkOrderPaid, [po.order_id, nowText]) === 0) alreadyPaid();
  run(kUpdatePaymentOrderStatus, [po.id, 'paid', nowText, nowText]);
  const changes = JSON.stringify({
    status: {from: order.status, to: 'confirmed'},
    paymentStatus: {from: order.payment_status, to: 'paid'},
    paymentOrderId: po.id,
    gatewayOrderId,
    gatewayPaymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    capture: 'gateway',
    source: 'verify',
  });
  run(kInsertAuditLog, [uuidV7(Math.floor(now / 1000)), 'order', po.order_id, 'payment_captured',
    changes, actorId || null, requestId || null, nowText]);
  return {paymentId: payment.id, orderId: po.order_id, amount: payment.amount,
    currency: payment.currency, status: 'captured', verifiedAt: nowText};
}

// PaymentService::Verify with the simulated gateway.
function verifyPayment(claims, input, requestId) {
  const issues = [];
  if (input.orderId === '') {
    issues.push({field: 'razorpayOrderId', issue: 'is required'});
  } else if (!isGatewayId(input.orderId, 'order_')) {
    issues.push({field: 'razorpayOrderId', issue: 'must be order_ followed by letters and digits'});
  }
  if (input.paymentId === '') {
    issues.push({field: 'razorpayPaymentId', issue: 'is required'});
  } else if (!isGatewayId(input.paymentId, 'pay_')) {
    issues.push({field: 'razorpayPaymentId', issue: 'must be pay_ followed by letters and digits'});
  }
  if (input.signature === '') issues.push({field: 'razorpaySignature', issue: 'is required'});
  if (issues.length > 0) refuse(400, 'VALIDATION_ERROR', 'invalid request', issues);
  if (!checkoutSignatureValid(input.orderId, input.paymentId, input.signature)) {
    refuse(400, 'INVALID_SIGNATURE', 'the signature does not match');
  }
  const found = read(() => {
    const po = get(kPaymentOrderByGatewayId, [input.orderId]);
    if (po === undefined || !po.order_id) return {po};
    return {po, order: get(kPayableOrder, [po.order_id]),
      recorded: get(kTransactionByGatewayPaymentId, [input.paymentId])};
  });
  const {po, order, recorded} = found;
  if (po === undefined || order === undefined || !ownsPaymentOrder(claims, po, order)) {
    paymentOrderNotFound();
  }
  // Already recorded: answer as the first time, without asking the gateway again.
  if (recorded !== undefined) {
    if (recorded.payment_order_id !== po.id) alreadyPaid();
    if (recorded.status === 'failed') paymentFailed();
    return recordedView(recorded, po.order_id);
  }
  if (order.payment_status === 'paid' || po.status === 'paid') alreadyPaid();
  if (isExpired(po, formatMicros(nowMicros()))) paymentOrderExpired();
  // FetchPayment of the simulated gateway, which this process cannot ask (see the header): a
  // signed checkout of this gateway order, captured, for the payment order's amount.
  const payment = {
    id: input.paymentId,
    amount: po.amount_paise,
    currency: po.currency,
    method: kPaymentMethods[input.paymentId.charCodeAt(input.paymentId.length - 1) % 4],
  };
  for (let tries = 0; ; ++tries) {
    try {
      return write(() => applyCaptured(input.orderId, payment, input.signature, claims.sub,
                                       requestId));
    } catch (err) {
      if (!(err instanceof Refusal) || !err.retry || tries >= 2) throw err;
    }
  }
}

app.post('/api/v1/payments/verify', writeRoute((req, reply) => {
  if (!jsonContentType(req)) return unsupportedMediaType(req, reply);
  if (keySecret === '') return notServed(req, reply, 'payments-verify without the gateway key');
  const claims = principal(req, reply);
  if (claims === null) return reply;
  const body = parseBody(req, reply);
  if (body === null) return reply;
  const issues = [];
  const input = {
    orderId: readString(body, 'razorpayOrderId', '', false, issues) ?? '',
    paymentId: readString(body, 'razorpayPaymentId', '', false, issues) ?? '',
    signature: readString(body, 'razorpaySignature', '', false, issues) ?? '',
  };
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'The verification request is invalid', issues);
  }
  const v = verifyPayment(claims, input, req.id);
  return send(req, reply, 200, '{"success":true,"data":' + JSON.stringify({
    verification: {verified: true, paymentId: v.paymentId, orderId: v.orderId, amount: v.amount,
      currency: v.currency, status: v.status, verifiedAt: v.verifiedAt},
  }) + ',"meta":' + meta(req) + '}');
}));

// ---- rfid-verify-card ----
// store/hot_queries.h and store/rfid_repo.cc
const kCardByNumber = 'SELECT c.id, c.card_number, c.is_active, c.expires_at,' +
    ' s.id, s.first_name, s.last_name, s.grade, s.section, s.is_active,' +
    ' sc.id, sc.name, sc.timezone, sc.is_active' +
    ' FROM rfid_cards c' +
    ' JOIN users s ON s.id = c.student_id' +
    ' JOIN schools sc ON sc.id = c.school_id' +
    ' WHERE c.card_number = $1';
const kReaderById = 'SELECT r.id, r.school_id, r.is_active FROM rfid_readers r WHERE r.id = $1';
const kDeliveryOrderColumns =
    'o.id, o.order_number, o.student_id, o.school_id, o.delivery_date, o.status, ' +
    'o.payment_status, o.delivered_at';
const kDeliveryOrderById = 'SELECT ' + kDeliveryOrderColumns + ' FROM orders o WHERE o.id = $1';
const kDeliverableOrderOfStudent =
    'SELECT o.id, o.order_number, o.status, o.payment_status, o.school_id, o.delivery_date' +
    ' FROM orders o' +
    " WHERE o.student_id = $1 AND o.delivery_date = $2 AND o.payment_status = 'paid'" +
    " AND o.status IN ('confirmed', 'preparing', 'ready', 'out_for_delivery')" +
    ' ORDER BY o.created_at, o.id LIMIT 1';
const kDeliveredOrderOfStudent = 'SELECT ' + kDeliveryOrderColumns +
    " FROM orders o WHERE o.student_id = $1 AND o.delivery_date = $2 AND o.status = 'delivered'" +
    ' ORDER BY o.delivered_at DESC, o.id DESC LIMIT 1';
const kVerifiedDeliveryOfOrder =
    'SELECT v.id, v.order_id, v.student_id, v.card_id, v.reader_id, v.verified_at, v.status,' +
    " v.location FROM delivery_verifications v WHERE v.order_id = $1 AND v.status = 'verified'";
const kOrderLines = 'SELECT i.name, i.quantity FROM order_items i WHERE i.order_id = $1' +
    ' ORDER BY i.created_at, i.id';
const kMarkDelivered =
    "UPDATE orders SET status = 'delivered', delivered_at = $2, updated_at = $2" +
    " WHERE id = $1 AND student_id = $3 AND delivery_date = $4 AND payment_status = 'paid'" +
    " AND status IN ('confirmed', 'preparing', 'ready', 'out_for_delivery')";
const kInsertVerification =
    'INSERT INTO delivery_verifications (id, order_id, student_id, card_id, reader_id,' +
    ' verified_at, status, location, verification_data, created_at)' +
    " VALUES ($1, $2, $3, $4, $5, $6, 'verified', $7, $8, $6)";
const kTouchCard = 'UPDATE rfid_cards SET last_used_at = $2, updated_at = $2 WHERE id = $1';
const kInsertDeliveryAudit =
    'INSERT INTO audit_logs (id, entity_type, entity_id, action, changes, user_id,' +
    ' created_by_id, ip_address, user_agent, request_id, metadata, created_at)' +
    " VALUES ($1, 'order', $2, 'rfid_delivery_verified', $3, $4, $4, $5, $6, $7, $8, $9)";

const kCardNumber = /^RFID-[A-Z0-9-]{4,60}$/;
const kMaxLocation = 255;
const deliverable = (s) =>
  s === 'confirmed' || s === 'preparing' || s === 'ready' || s === 'out_for_delivery';
// Thrown inside the delivery's transaction when another scan (or the kitchen flow) got there
// first: rolled back, then answered with what the winner did.
class LostRace extends Error {
  constructor(plan) {
    super('the order changed before it could be delivered');
    this.plan = plan;
  }
}

// common/utf8.cc Utf8Truncated(ToValidUtf8(text), n): invalid sequences replaced (maximal
// subparts, as Node's decoder does), then cut to n bytes without splitting a character.
function utf8Truncated(latin1, n) {
  const bytes = Buffer.from(Buffer.from(latin1, 'latin1').toString('utf8'));
  if (bytes.length <= n) return bytes.toString('utf8');
  let cut = n;
  for (let back = 0; back < 3 && cut > 0 && (bytes[cut] & 0xc0) === 0x80; ++back) --cut;
  return bytes.subarray(0, cut).toString('utf8');
}

// domain/rfid_service.cc LoadDelivered: the first verification and the lines of the order.
function loadDelivered(plan) {
  plan.alreadyDelivered = true;
  plan.firstVerification = get(kVerifiedDeliveryOfOrder, [plan.order.id]) ?? null;
  plan.lines = all(kOrderLines, [plan.order.id]);
  return plan;
}

// The lookups of RfidService::Verify, inside the delivery's transaction: a plan, or a Refusal.
function findDelivery(claims, input, now) {
  const c = rawAll(kCardByNumber, [input.cardNumber])[0];
  if (c === undefined || !actsInSchool(claims, c[10])) {
    refuse(404, 'CARD_NOT_FOUND', 'No such card');
  }
  const card = {
    id: c[0], cardNumber: c[1], active: !!c[2], expiresAt: c[3], studentId: c[4],
    firstName: c[5], lastName: c[6], grade: c[7], section: c[8], studentActive: !!c[9],
    schoolId: c[10], schoolName: c[11], timezone: c[12], schoolActive: !!c[13],
  };
  const plan = {card, today: '', order: null, alreadyDelivered: false, firstVerification: null,
    lines: []};
  if (!card.active) refuse(422, 'CARD_INACTIVE', 'The card is deactivated');
  if (card.expiresAt !== null && card.expiresAt <= formatMicros(now)) {
    refuse(422, 'CARD_EXPIRED', 'The card has expired');
  }
  if (!card.studentActive) refuse(422, 'STUDENT_INACTIVE', 'The card\'s student is not active');
  if (!card.schoolActive) refuse(422, 'SCHOOL_INACTIVE', 'The card\'s school is not active');
  if (input.readerId !== undefined) {
    const reader = get(kReaderById, [input.readerId]);
    if (reader === undefined || !reader.is_active || reader.school_id !== card.schoolId) {
      refuse(422, 'READER_MISMATCH', 'The reader is not an active reader of the card\'s school');
    }
  }
  plan.today = localDate(card.timezone);
  if (input.orderId !== undefined) {
    const order = get(kDeliveryOrderById, [input.orderId]);
    if (order === undefined || order.student_id !== card.studentId) {
      refuse(404, 'NO_ORDER_TODAY', 'The student has no such order');
    }
    plan.order = order;
    if (order.status === 'delivered') return loadDelivered(plan);
    if (order.delivery_date !== plan.today || order.payment_status !== 'paid' ||
        !deliverable(order.status)) {
      refuse(422, 'ORDER_NOT_DELIVERABLE',
             'The order is not a paid order of today awaiting delivery');
    }
  } else {
    const o = get(kDeliverableOrderOfStudent, [card.studentId, plan.today]);
    if (o === undefined) {
      const delivered = get(kDeliveredOrderOfStudent, [card.studentId, plan.today]);
      if (delivered === undefined) {
        refuse(404, 'NO_ORDER_TODAY', 'The student has no paid order to deliver today');
      }
      plan.order = delivered;
      return loadDelivered(plan);
    }
    plan.order = {id: o.id, order_number: o.order_number, student_id: card.studentId,
      school_id: o.school_id, delivery_date: o.delivery_date, status: o.status,
      payment_status: o.payment_status, delivered_at: null};
  }
  plan.lines = all(kOrderLines, [plan.order.id]);
  return plan;
}

// RfidService::Verify's transaction: the plan, with the delivery written unless the order was
// already delivered.
function deliver(claims, input, info) {
  const now = nowMicros();
  const nowMs = Math.floor(now / 1000);
  const nowText = formatMicros(now);
  const plan = findDelivery(claims, input, now);
  if (plan.alreadyDelivered) return plan;
  const verification = {id: uuidV7(nowMs), order_id: plan.order.id, student_id: plan.card.studentId,
    card_id: plan.card.id, reader_id: input.readerId ?? null, verified_at: nowText,
    status: 'verified', location: input.location ?? null};
  const data = JSON.stringify({method: 'rfid', verifiedBy: claims.sub,
    cardNumber: plan.card.cardNumber});
  const changes = JSON.stringify({status: {from: plan.order.status, to: 'delivered'},
    deliveredAt: nowText});
  const metadata = {verificationId: verification.id, cardId: plan.card.id};
  if (input.readerId !== undefined) metadata.readerId = input.readerId;
  if (input.location !== undefined) metadata.location = input.location;
  if (run(kMarkDelivered, [plan.order.id, nowText, plan.card.studentId, plan.today]) !== 1) {
    throw new LostRace(plan);
  }
  try {
    run(kInsertVerification, [verification.id, verification.order_id, verification.student_id,
      verification.card_id, verification.reader_id, nowText, verification.location, data]);
  } catch (err) {
    const r = storeRefusal(err);
    if (r !== null && r.code === 'CONFLICT') throw new LostRace(plan);
    throw err;
  }
  run(kTouchCard, [plan.card.id, nowText]);
  run(kInsertDeliveryAudit, [uuidV7(nowMs), plan.order.id, changes, claims.sub || null,
    info.ipAddress || null, info.userAgent || null, info.requestId || null,
    JSON.stringify(metadata), nowText]);
  plan.order.status = 'delivered';
  plan.order.delivered_at = nowText;
  plan.firstVerification = verification;
  return plan;
}

app.post('/api/v1/rfid/verify', writeRoute((req, reply) => {
  if (!jsonContentType(req)) return unsupportedMediaType(req, reply);
  const claims = principal(req, reply);
  if (claims === null) return reply;
  const body = parseBody(req, reply);
  if (body === null) return reply;
  const issues = [];
  const input = {cardNumber: ''};
  const card = member(body, 'cardNumber');
  if (card === undefined) {
    issues.push({field: 'cardNumber', issue: 'is required'});
  } else if (typeof card !== 'string') {
    issues.push({field: 'cardNumber', issue: 'must be a string'});
  } else {
    input.cardNumber = card;
  }
  input.readerId = readString(body, 'readerId', '', false, issues);
  input.orderId = readString(body, 'orderId', '', false, issues);
  input.location = readString(body, 'location', '', false, issues);
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'The verification request is invalid', issues);
  }
  // Families never scan cards; refusing before any lookup keeps card numbers unprobeable.
  if (!isAdmin(claims) && !isStaff(claims)) {
    return fail(req, reply, 403, 'FORBIDDEN',
                'Only kitchen staff, school admins and admins verify deliveries');
  }
  if (!kCardNumber.test(input.cardNumber)) {
    issues.push({field: 'cardNumber', issue: 'must match ^RFID-[A-Z0-9-]{4,60}$'});
  }
  if (input.readerId !== undefined && !kUuid.test(input.readerId)) {
    issues.push({field: 'readerId', issue: 'must be a UUID'});
  }
  if (input.orderId !== undefined && !kUuid.test(input.orderId)) {
    issues.push({field: 'orderId', issue: 'must be a UUID'});
  }
  if (input.location !== undefined && Buffer.byteLength(input.location) > kMaxLocation) {
    issues.push({field: 'location', issue: 'must be at most 255 characters'});
  }
  if (issues.length > 0) {
    return fail(req, reply, 400, 'VALIDATION_ERROR', 'The verification request is invalid', issues);
  }
  const info = {
    requestId: req.id,
    ipAddress: req.socket.remoteAddress || '',
    userAgent: utf8Truncated(req.headers['user-agent'] ?? '', 512),
  };
  let plan;
  try {
    plan = write(() => deliver(claims, input, info));
  } catch (err) {
    if (!(err instanceof LostRace)) throw err;
    // Another scan (or the kitchen flow) got there first: the read after our rollback sees the
    // winner's committed rows.
    plan = read(() => {
      const order = get(kDeliveryOrderById, [err.plan.order.id]);
      if (order === undefined || order.status !== 'delivered') {
        refuse(422, 'ORDER_NOT_DELIVERABLE', 'The order is no longer awaiting delivery');
      }
      err.plan.order = order;
      return loadDelivered(err.plan);
    });
  }
  const v = plan.firstVerification;
  const o = plan.order;
  if (plan.alreadyDelivered) {
    // api/rfid_routes.cc AlreadyDelivered: the error carries the first verification.
    return send(req, reply, 409, JSON.stringify({
      success: false,
      error: {
        code: 'ALREADY_DELIVERED',
        message: 'The order has already been delivered',
        verification: v === null ? null : {id: v.id, verifiedAt: v.verified_at, status: v.status,
          orderId: v.order_id, cardId: v.card_id, readerId: v.reader_id, location: v.location},
        order: {id: o.id, orderNumber: o.order_number, status: o.status,
          deliveredAt: o.delivered_at},
      },
      meta: {timestamp: isoMicros(), requestId: req.id},
    }));
  }
  const c = plan.card;
  return send(req, reply, 200, '{"success":true,"data":' + JSON.stringify({
    verification: {id: v.id, verifiedAt: v.verified_at, status: v.status},
    student: {id: c.studentId, firstName: c.firstName, lastName: c.lastName, grade: c.grade,
      section: c.section},
    school: {id: c.schoolId, name: c.schoolName},
    order: {id: o.id, orderNumber: o.order_number, status: o.status,
      items: plan.lines.map((l) => ({name: l.name, quantity: l.quantity}))},
    card: {id: c.id, cardNumber: c.cardNumber},
  }) + ',"meta":' + meta(req) + '}');
}));

app.get('/healthz', (req, reply) => {
  reply.header('Content-Type', 'application/json').send('{"success":true,"data":{"status":"ok"}}');
});

// Everything else is not served by the baseline (hasivu bench notes it per function).
app.setNotFoundHandler((req, reply) => notServed(req, reply, req.method + ' ' + req.url));

// Errors outside the handlers' own answers: the transport's 413, and anything unexpected as
// hasivu's 500 INTERNAL, whose text goes to the log, never to the client.
app.setErrorHandler((err, req, reply) => {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    req.transportError = true;
    return fail(req, reply, 413, 'PAYLOAD_TOO_LARGE',
                'The request body is larger than the server accepts');
  }
  const r = storeRefusal(err);
  if (r !== null) return fail(req, reply, r.status, r.code, r.message);
  console.error('request ' + req.id + ': internal error: ' + (err.stack || err.message));
  return fail(req, reply, 500, 'INTERNAL', 'An internal error occurred');
});

// What a service does at boot: its fixed statements compiled and the schools' time zones loaded
// (ICU's zone data), so that its first requests pay neither. Measured, the first write of a cold
// process took ~70 ms without it; hasivu's first requests come after hasivu bench's setup traffic
// through it, the peer's in its measured phase.
function warmUp() {
  for (const sql of [kOrdersOfParentFirstPage, kOrdersOfStudentFirstPage, kChildrenOfParent,
    kStudentExtras, kSchoolName, kUserById, kSchoolById, kChildrenDetails, kMenuSchool,
    kParentHasChildInSchool, kDailyMenuOfSchool, kDailyMenuSlots, kFamilyState, kTakeSlotStock,
    kInsertOrder, kInsertOrderItem, kClaimIdempotencyKey, kFindIdempotencyKey,
    kDeleteIdempotencyKey, kCompleteIdempotencyKey, kPaymentOrderByGatewayId, kPayableOrder,
    kTransactionByGatewayPaymentId, kLockOrder, kInsertTransactionIfAbsent, kMarkOrderPaid,
    kUpdatePaymentOrderStatus, kInsertAuditLog, kReaderById, kDeliveryOrderById,
    kDeliverableOrderOfStudent, kDeliveredOrderOfStudent, kVerifiedDeliveryOfOrder, kOrderLines,
    kMarkDelivered, kInsertVerification, kTouchCard, kInsertDeliveryAudit]) {
    stmt(sql);
  }
  for (const sql of [kFindOrderStudent, kMenuSlotsOfDay, kCardByNumber]) rawStmt(sql);
  for (const {timezone} of db.prepare('SELECT DISTINCT timezone FROM schools').all()) {
    try {
      todayIn(timezone);
    } catch (e) {
      // an unknown zone is answered per request, as hasivu answers it
    }
  }
}
warmUp();

app.listen({port, host: '127.0.0.1'}).catch((err) => {
  console.error(err.message);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => app.close().then(async () => {
    await checkpointer.terminate();
    // As hasivu on closing its database: statistics the planner lacks, refreshed.
    try {
      db.pragma('optimize');
    } catch (e) {
      // best effort
    }
    db.close();
    process.exit(0);
  }));
}
