-- GENERATED from template/0001_core.sql.in by gen.py for sqlite; edit the template.
-- 0001_core: the tables of the HASIVU data model (reference §1, faults of §9 fixed).
--
-- Conventions: ids are UUID text; money is integer paise; instants are UTC (SQLite: TEXT in the
-- fixed form "YYYY-MM-DDTHH:MM:SS.ffffffZ", which sorts correctly); dates are 'YYYY-MM-DD'
-- (SQLite TEXT, PostgreSQL DATE); JSON is TEXT (SQLite) / JSONB (PostgreSQL); booleans are 0/1
-- (SQLite) / BOOLEAN. Status-like columns are lower-case words with CHECKs. Money rows are
-- never deleted by a cascade (RESTRICT); rows owned by a parent row cascade with it.
-- schema_migrations is created by the migration runner itself (store/migrations.cc).

CREATE TABLE schools (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  timezone TEXT NOT NULL DEFAULT 'Asia/Kolkata',
  address TEXT NOT NULL DEFAULT '{}',
  city TEXT,
  state TEXT,
  postal_code TEXT,
  phone TEXT,
  email TEXT,
  website TEXT,
  principal_name TEXT,
  subscription_tier TEXT NOT NULL DEFAULT 'BASIC',
  operating_hours TEXT NOT NULL DEFAULT '{}',
  configuration TEXT NOT NULL DEFAULT '{}',
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;

-- One family link only: users.parent_id (a student has exactly one parent account).
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  phone TEXT,
  role TEXT NOT NULL DEFAULT 'parent'
    CHECK (role IN ('parent', 'student', 'kitchen_staff', 'school_admin', 'admin')),
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'inactive', 'suspended', 'pending')),
  school_id TEXT REFERENCES schools (id) ON DELETE SET NULL,
  parent_id TEXT REFERENCES users (id) ON DELETE SET NULL CHECK (parent_id <> id),
  grade TEXT,
  section TEXT,
  profile_picture_url TEXT,
  timezone TEXT,
  language TEXT NOT NULL DEFAULT 'en',
  preferences TEXT NOT NULL DEFAULT '{}',
  metadata TEXT NOT NULL DEFAULT '{}',
  email_verified INTEGER CHECK (email_verified IN (0, 1)) NOT NULL DEFAULT 0,
  phone_verified INTEGER CHECK (phone_verified IN (0, 1)) NOT NULL DEFAULT 0,
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  last_login_at TEXT CHECK (last_login_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;

-- Refresh-token families. One row per issued refresh token; rotation inserts the successor
-- (rotated_from = predecessor) and sets the predecessor's replaced_by. Presenting a token whose
-- row has replaced_by or revoked_at set revokes the whole family_id. The access token's `sid`
-- claim is the family_id.
CREATE TABLE auth_sessions (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id TEXT NOT NULL,
  refresh_token_hash TEXT NOT NULL UNIQUE,
  rotated_from TEXT REFERENCES auth_sessions (id) ON DELETE SET NULL,
  replaced_by TEXT REFERENCES auth_sessions (id) ON DELETE SET NULL,
  revoked_at TEXT CHECK (revoked_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  revoke_reason TEXT,
  expires_at TEXT CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  last_used_at TEXT CHECK (last_used_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z')
) STRICT;
CREATE INDEX "auth_sessions_familyId_idx" ON auth_sessions (family_id);
CREATE INDEX "auth_sessions_userId_createdAt_idx" ON auth_sessions (user_id, created_at);
CREATE INDEX "auth_sessions_expiresAt_idx" ON auth_sessions (expires_at);

CREATE TABLE audit_logs (
  id TEXT PRIMARY KEY NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  action TEXT NOT NULL,
  changes TEXT NOT NULL DEFAULT '{}',
  user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_by_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  ip_address TEXT,
  user_agent TEXT,
  request_id TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "audit_logs_entity_createdAt_idx" ON audit_logs (entity_type, entity_id, created_at);
CREATE INDEX "audit_logs_userId_createdAt_idx" ON audit_logs (user_id, created_at);

-- Idempotency-Key replay store (orders-create): response_status NULL = first request still
-- running.
CREATE TABLE idempotency_keys (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_method TEXT NOT NULL DEFAULT 'POST',
  request_path TEXT NOT NULL DEFAULT '',
  request_hash TEXT NOT NULL,
  response_status INTEGER,
  response_body TEXT,
  resource_id TEXT,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  expires_at TEXT CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL,
  UNIQUE (user_id, key)
) STRICT;
CREATE INDEX "idempotency_keys_expiresAt_idx" ON idempotency_keys (expires_at);

-- ---------------------------------------------------------------------------------------------
-- Menus
-- ---------------------------------------------------------------------------------------------

CREATE TABLE menu_items (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT REFERENCES schools (id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  description TEXT,
  category TEXT NOT NULL,
  price_paise INTEGER NOT NULL CHECK (price_paise >= 0),
  original_price_paise INTEGER CHECK (original_price_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  available INTEGER CHECK (available IN (0, 1)) NOT NULL DEFAULT 1,
  featured INTEGER CHECK (featured IN (0, 1)) NOT NULL DEFAULT 0,
  image_url TEXT,
  nutritional_info TEXT,
  allergens TEXT NOT NULL DEFAULT '[]',
  tags TEXT NOT NULL DEFAULT '[]',
  preparation_time INTEGER,
  portion_size TEXT,
  calories INTEGER,
  vendor_id TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "menu_items_schoolId_sortOrder_idx" ON menu_items (school_id, sort_order);

CREATE TABLE menu_plans (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  start_date TEXT CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  end_date TEXT CHECK (end_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  is_template INTEGER CHECK (is_template IN (0, 1)) NOT NULL DEFAULT 0,
  is_recurring INTEGER CHECK (is_recurring IN (0, 1)) NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'pending_approval', 'approved', 'published', 'archived')),
  approval_workflow TEXT NOT NULL DEFAULT '{}',
  approved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
  approved_at TEXT CHECK (approved_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  recurring_pattern TEXT,
  template_category TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 1,
  created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  CHECK (end_date >= start_date)
) STRICT;

-- Fixes the original's drift: school_id exists (and is required), and a date is unique per
-- school, not globally.
CREATE TABLE daily_menus (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  menu_plan_id TEXT REFERENCES menu_plans (id) ON DELETE SET NULL,
  date TEXT CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  day_type TEXT NOT NULL DEFAULT 'WEEKDAY'
    CHECK (day_type IN ('WEEKDAY', 'WEEKEND', 'HOLIDAY', 'SPECIAL_EVENT')),
  special_event_info TEXT,
  available_quantity INTEGER,
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  is_published INTEGER CHECK (is_published IN (0, 1)) NOT NULL DEFAULT 0,
  published_at TEXT CHECK (published_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  notes TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  CONSTRAINT "daily_menus_schoolId_date_key" UNIQUE (school_id, date)
) STRICT;
CREATE INDEX "daily_menus_menuPlanId_idx" ON daily_menus (menu_plan_id);

-- The items on a daily menu. available_quantity NULL = unlimited; a limited slot is
-- decremented atomically by orders-create.
CREATE TABLE menu_item_slots (
  id TEXT PRIMARY KEY NOT NULL,
  daily_menu_id TEXT NOT NULL REFERENCES daily_menus (id) ON DELETE CASCADE,
  menu_item_id TEXT NOT NULL REFERENCES menu_items (id) ON DELETE RESTRICT,
  category TEXT NOT NULL,
  available_from TEXT CHECK (available_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  available_to TEXT CHECK (available_to GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  planned_quantity INTEGER CHECK (planned_quantity >= 0),
  available_quantity INTEGER CHECK (available_quantity >= 0),
  custom_price_paise INTEGER CHECK (custom_price_paise >= 0),
  is_special INTEGER CHECK (is_special IN (0, 1)) NOT NULL DEFAULT 0,
  is_limited INTEGER CHECK (is_limited IN (0, 1)) NOT NULL DEFAULT 0,
  max_per_order INTEGER CHECK (max_per_order >= 1),
  preparation_deadline TEXT CHECK (preparation_deadline GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  kitchen_notes TEXT,
  display_order INTEGER NOT NULL DEFAULT 0,
  is_visible INTEGER CHECK (is_visible IN (0, 1)) NOT NULL DEFAULT 1,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  CONSTRAINT "menu_item_slots_dailyMenuId_menuItemId_category_key"
    UNIQUE (daily_menu_id, menu_item_id, category)
) STRICT;
CREATE INDEX "menu_item_slots_dailyMenuId_displayOrder_idx"
  ON menu_item_slots (daily_menu_id, display_order);
CREATE INDEX "menu_item_slots_menuItemId_idx" ON menu_item_slots (menu_item_id);

-- ---------------------------------------------------------------------------------------------
-- Orders
-- ---------------------------------------------------------------------------------------------

CREATE TABLE orders (
  id TEXT PRIMARY KEY NOT NULL,
  order_number TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  student_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'confirmed', 'preparing', 'ready', 'out_for_delivery',
                      'delivered', 'cancelled')),
  payment_status TEXT NOT NULL DEFAULT 'pending'
    CHECK (payment_status IN ('pending', 'paid', 'failed', 'refunded')),
  total_amount_paise INTEGER NOT NULL CHECK (total_amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  delivery_date TEXT CHECK (delivery_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  delivered_at TEXT CHECK (delivered_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  cancelled_at TEXT CHECK (cancelled_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  special_instructions TEXT,
  allergy_info TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;

CREATE TABLE order_items (
  id TEXT PRIMARY KEY NOT NULL,
  order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  menu_item_id TEXT NOT NULL REFERENCES menu_items (id) ON DELETE RESTRICT,
  slot_id TEXT REFERENCES menu_item_slots (id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1),
  unit_price_paise INTEGER NOT NULL CHECK (unit_price_paise >= 0),
  total_price_paise INTEGER NOT NULL CHECK (total_price_paise >= 0),
  customizations TEXT NOT NULL DEFAULT '{}',
  notes TEXT,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "order_items_orderId_idx" ON order_items (order_id);
CREATE INDEX "order_items_menuItemId_idx" ON order_items (menu_item_id);
CREATE INDEX "order_items_slotId_idx" ON order_items (slot_id);

-- ---------------------------------------------------------------------------------------------
-- Subscriptions (before payments: payments and payment orders may reference them)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE subscription_plans (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  plan_type TEXT NOT NULL,
  price_paise INTEGER NOT NULL CHECK (price_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  billing_cycle TEXT NOT NULL,
  meals_per_day INTEGER NOT NULL DEFAULT 1,
  meals_per_week INTEGER,
  meals_per_month INTEGER,
  benefits TEXT NOT NULL DEFAULT '[]',
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  available_from TEXT CHECK (available_from GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  available_to TEXT CHECK (available_to GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  trial_period_days INTEGER NOT NULL DEFAULT 0,
  trial_price_paise INTEGER CHECK (trial_price_paise >= 0),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "subscription_plans_schoolId_isActive_idx" ON subscription_plans (school_id, is_active);

CREATE TABLE payment_methods (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  method_type TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_method_id TEXT NOT NULL,
  card_last4 TEXT,
  card_brand TEXT,
  card_network TEXT,
  card_type TEXT,
  upi_handle TEXT,
  wallet_provider TEXT,
  is_default INTEGER CHECK (is_default IN (0, 1)) NOT NULL DEFAULT 0,
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "payment_methods_userId_isActive_idx" ON payment_methods (user_id, is_active);

CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  student_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  subscription_plan_id TEXT NOT NULL REFERENCES subscription_plans (id) ON DELETE RESTRICT,
  payment_method_id TEXT REFERENCES payment_methods (id) ON DELETE SET NULL,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'paused', 'cancelled', 'suspended', 'expired')),
  start_date TEXT CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  end_date TEXT CHECK (end_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  next_billing_date TEXT CHECK (next_billing_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  billing_cycle TEXT NOT NULL,
  billing_amount_paise INTEGER NOT NULL CHECK (billing_amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  proration_enabled INTEGER CHECK (proration_enabled IN (0, 1)) NOT NULL DEFAULT 1,
  proration_amount_paise INTEGER NOT NULL DEFAULT 0,
  grace_period_days INTEGER NOT NULL DEFAULT 3,
  dunning_attempts INTEGER NOT NULL DEFAULT 0,
  max_dunning_attempts INTEGER NOT NULL DEFAULT 3,
  suspended_at TEXT CHECK (suspended_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  cancelled_at TEXT CHECK (cancelled_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  trial_period_days INTEGER NOT NULL DEFAULT 0,
  trial_end_date TEXT CHECK (trial_end_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  is_trial_active INTEGER CHECK (is_trial_active IN (0, 1)) NOT NULL DEFAULT 0,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "subscriptions_subscriptionPlanId_idx" ON subscriptions (subscription_plan_id);

-- ---------------------------------------------------------------------------------------------
-- Payments (gateway: Razorpay or the simulated gateway, ids in Razorpay's shapes)
-- ---------------------------------------------------------------------------------------------

-- created -> attempted -> paid | failed; created/attempted -> expired (30 min).
CREATE TABLE payment_orders (
  id TEXT PRIMARY KEY NOT NULL,
  gateway_order_id TEXT NOT NULL UNIQUE,
  gateway TEXT NOT NULL DEFAULT 'simulated',
  order_id TEXT REFERENCES orders (id) ON DELETE RESTRICT,
  subscription_id TEXT REFERENCES subscriptions (id) ON DELETE SET NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  amount_paise INTEGER NOT NULL CHECK (amount_paise > 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'created'
    CHECK (status IN ('created', 'attempted', 'paid', 'failed', 'expired')),
  receipt TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  expires_at TEXT CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL,
  paid_at TEXT CHECK (paid_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "payment_orders_orderId_status_idx" ON payment_orders (order_id, status);

-- One row per gateway payment; the unique gateway_payment_id is the dedupe guard of verify and
-- the webhook.
CREATE TABLE payment_transactions (
  id TEXT PRIMARY KEY NOT NULL,
  gateway_payment_id TEXT NOT NULL UNIQUE,
  payment_order_id TEXT NOT NULL REFERENCES payment_orders (id) ON DELETE RESTRICT,
  amount_paise INTEGER NOT NULL CHECK (amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'created'
    CHECK (status IN ('created', 'authorized', 'captured', 'refunded', 'failed')),
  method TEXT,
  gateway TEXT NOT NULL DEFAULT 'simulated',
  signature TEXT,
  fees TEXT NOT NULL DEFAULT '{}',
  error_code TEXT,
  error_description TEXT,
  captured_at TEXT CHECK (captured_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  refunded_at TEXT CHECK (refunded_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "payment_transactions_paymentOrderId_idx" ON payment_transactions (payment_order_id);

CREATE TABLE payment_refunds (
  id TEXT PRIMARY KEY NOT NULL,
  gateway_refund_id TEXT NOT NULL UNIQUE,
  payment_transaction_id TEXT NOT NULL REFERENCES payment_transactions (id) ON DELETE RESTRICT,
  amount_paise INTEGER NOT NULL CHECK (amount_paise > 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
  reason TEXT,
  notes TEXT NOT NULL DEFAULT '{}',
  processed_at TEXT CHECK (processed_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "payment_refunds_paymentTransactionId_idx" ON payment_refunds (payment_transaction_id);

-- The original's second payment model, kept for its indexes (#15-#17) and reports; the ten
-- functions write payment_orders/payment_transactions.
CREATE TABLE payments (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  order_id TEXT REFERENCES orders (id) ON DELETE SET NULL,
  subscription_id TEXT REFERENCES subscriptions (id) ON DELETE SET NULL,
  payment_method_id TEXT REFERENCES payment_methods (id) ON DELETE SET NULL,
  amount_paise INTEGER NOT NULL CHECK (amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL,
  payment_type TEXT NOT NULL,
  gateway_payment_id TEXT,
  gateway_order_id TEXT,
  gateway_response TEXT NOT NULL DEFAULT '{}',
  failure_reason TEXT,
  retry_count INTEGER NOT NULL DEFAULT 0,
  paid_at TEXT CHECK (paid_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  refunded_at TEXT CHECK (refunded_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "payments_gatewayPaymentId_idx" ON payments (gateway_payment_id);
CREATE INDEX "payments_orderId_idx" ON payments (order_id);

CREATE TABLE billing_cycles (
  id TEXT PRIMARY KEY NOT NULL,
  subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  cycle_number INTEGER NOT NULL,
  cycle_start TEXT CHECK (cycle_start GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  cycle_end TEXT CHECK (cycle_end GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  billing_amount_paise INTEGER NOT NULL,
  proration_amount_paise INTEGER NOT NULL DEFAULT 0,
  total_amount_paise INTEGER NOT NULL,
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'pending',
  billing_date TEXT CHECK (billing_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  due_date TEXT CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  paid_date TEXT CHECK (paid_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  payment_id TEXT REFERENCES payments (id) ON DELETE SET NULL,
  dunning_attempts INTEGER NOT NULL DEFAULT 0,
  last_dunning_at TEXT CHECK (last_dunning_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  next_dunning_at TEXT CHECK (next_dunning_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  UNIQUE (subscription_id, cycle_number)
) STRICT;

CREATE TABLE invoices (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  invoice_number TEXT NOT NULL UNIQUE,
  invoice_date TEXT CHECK (invoice_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  due_date TEXT CHECK (due_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  subtotal_paise INTEGER NOT NULL,
  tax_amount_paise INTEGER NOT NULL DEFAULT 0,
  discount_amount_paise INTEGER NOT NULL DEFAULT 0,
  total_amount_paise INTEGER NOT NULL,
  currency TEXT NOT NULL DEFAULT 'INR',
  gst_number TEXT,
  gst_rate_bp INTEGER NOT NULL DEFAULT 0,
  hsn_code TEXT,
  place_of_supply TEXT,
  status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'cancelled')),
  sent_date TEXT CHECK (sent_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  paid_date TEXT CHECK (paid_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
  payment_id TEXT REFERENCES payments (id) ON DELETE SET NULL,
  pdf_url TEXT,
  pdf_generated_at TEXT CHECK (pdf_generated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  email_sent INTEGER CHECK (email_sent IN (0, 1)) NOT NULL DEFAULT 0,
  email_sent_at TEXT CHECK (email_sent_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  email_delivered INTEGER CHECK (email_delivered IN (0, 1)) NOT NULL DEFAULT 0,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;

CREATE TABLE invoice_items (
  id TEXT PRIMARY KEY NOT NULL,
  invoice_id TEXT NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  order_id TEXT REFERENCES orders (id) ON DELETE SET NULL,
  description TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  unit_price_paise INTEGER NOT NULL,
  total_price_paise INTEGER NOT NULL,
  tax_rate_bp INTEGER NOT NULL DEFAULT 0,
  tax_amount_paise INTEGER NOT NULL DEFAULT 0,
  item_type TEXT NOT NULL,
  item_code TEXT,
  hsn_code TEXT,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "invoice_items_invoiceId_idx" ON invoice_items (invoice_id);

CREATE TABLE notifications (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
  template_id TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  type TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  data TEXT NOT NULL DEFAULT '{}',
  image_url TEXT,
  action_url TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'read')),
  channels TEXT NOT NULL DEFAULT '[]',
  scheduled_for TEXT CHECK (scheduled_for GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  sent_at TEXT CHECK (sent_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  delivered_at TEXT CHECK (delivered_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  read_at TEXT CHECK (read_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "notifications_status_scheduledFor_idx" ON notifications (status, scheduled_for);

-- Daily/monthly report rows. Rates are basis points (integer) so no float reaches a report.
CREATE TABLE payment_analytics (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  report_date TEXT CHECK (report_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  report_type TEXT NOT NULL,
  total_transactions INTEGER NOT NULL DEFAULT 0,
  successful_transactions INTEGER NOT NULL DEFAULT 0,
  failed_transactions INTEGER NOT NULL DEFAULT 0,
  total_amount_paise INTEGER NOT NULL DEFAULT 0,
  refunded_amount_paise INTEGER NOT NULL DEFAULT 0,
  average_amount_paise INTEGER NOT NULL DEFAULT 0,
  success_rate_bp INTEGER NOT NULL DEFAULT 0,
  method_breakdown TEXT NOT NULL DEFAULT '{}',
  data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  CONSTRAINT "payment_analytics_schoolId_reportDate_reportType_key"
    UNIQUE (school_id, report_date, report_type)
) STRICT;

CREATE TABLE subscription_analytics (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  report_date TEXT CHECK (report_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]') NOT NULL,
  report_type TEXT NOT NULL,
  active_subscriptions INTEGER NOT NULL DEFAULT 0,
  new_subscriptions INTEGER NOT NULL DEFAULT 0,
  cancelled_subscriptions INTEGER NOT NULL DEFAULT 0,
  paused_subscriptions INTEGER NOT NULL DEFAULT 0,
  churn_rate_bp INTEGER NOT NULL DEFAULT 0,
  revenue_paise INTEGER NOT NULL DEFAULT 0,
  average_revenue_per_user_paise INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  CONSTRAINT "subscription_analytics_schoolId_reportDate_reportType_key"
    UNIQUE (school_id, report_date, report_type)
) STRICT;

-- ---------------------------------------------------------------------------------------------
-- RFID
-- ---------------------------------------------------------------------------------------------

CREATE TABLE rfid_cards (
  id TEXT PRIMARY KEY NOT NULL,
  card_number TEXT NOT NULL UNIQUE,
  student_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  issued_at TEXT CHECK (issued_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  expires_at TEXT CHECK (expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  last_used_at TEXT CHECK (last_used_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  deactivated_at TEXT CHECK (deactivated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  deactivation_reason TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;

CREATE TABLE rfid_readers (
  id TEXT PRIMARY KEY NOT NULL,
  school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  location TEXT,
  ip_address TEXT,
  status TEXT NOT NULL DEFAULT 'offline'
    CHECK (status IN ('online', 'offline', 'maintenance', 'error')),
  last_heartbeat TEXT CHECK (last_heartbeat GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
  configuration TEXT NOT NULL DEFAULT '{}',
  is_active INTEGER CHECK (is_active IN (0, 1)) NOT NULL DEFAULT 1,
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  updated_at TEXT CHECK (updated_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE INDEX "rfid_readers_schoolId_isActive_idx" ON rfid_readers (school_id, is_active);

-- reader_id is nullable (the original's FK broke reader-less scans). An order is delivered once:
-- at most one 'verified' row per order (partial unique index below).
CREATE TABLE delivery_verifications (
  id TEXT PRIMARY KEY NOT NULL,
  order_id TEXT REFERENCES orders (id) ON DELETE RESTRICT,
  student_id TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  card_id TEXT NOT NULL REFERENCES rfid_cards (id) ON DELETE RESTRICT,
  reader_id TEXT REFERENCES rfid_readers (id) ON DELETE SET NULL,
  verified_at TEXT CHECK (verified_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
  status TEXT NOT NULL DEFAULT 'verified' CHECK (status IN ('verified', 'failed', 'duplicate')),
  location TEXT,
  delivery_photo TEXT,
  verification_notes TEXT,
  verification_data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT CHECK (created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z') NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
) STRICT;
CREATE UNIQUE INDEX "delivery_verifications_orderId_verified_key"
  ON delivery_verifications (order_id) WHERE status = 'verified';
CREATE INDEX "delivery_verifications_orderId_idx" ON delivery_verifications (order_id);
CREATE INDEX "delivery_verifications_cardId_idx" ON delivery_verifications (card_id);
