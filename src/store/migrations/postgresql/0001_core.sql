-- GENERATED from template/0001_core.sql.in by gen.py for postgresql; edit the template.
-- 0001_core: the tables of the HASIVU data model (reference §1, faults of §9 fixed).
--
-- Conventions: ids are UUID text; money is integer paise; instants are UTC (SQLite: TEXT in the
-- fixed form "YYYY-MM-DDTHH:MM:SS.ffffffZ", which sorts correctly); dates are 'YYYY-MM-DD'
-- (SQLite TEXT, PostgreSQL DATE); JSON is TEXT (SQLite) / JSONB (PostgreSQL); booleans are 0/1
-- (SQLite) / BOOLEAN. Status-like columns are lower-case words with CHECKs. Money rows are
-- never deleted by a cascade (RESTRICT); rows owned by a parent row cascade with it.
-- schema_migrations is created by the migration runner itself (store/migrations.cc).

CREATE TABLE schools (
  id UUID PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  code TEXT NOT NULL UNIQUE,
  timezone TEXT NOT NULL DEFAULT 'Asia/Kolkata',
  address JSONB NOT NULL DEFAULT '{}',
  city TEXT,
  state TEXT,
  postal_code TEXT,
  phone TEXT,
  email TEXT,
  website TEXT,
  principal_name TEXT,
  subscription_tier TEXT NOT NULL DEFAULT 'BASIC',
  operating_hours JSONB NOT NULL DEFAULT '{}',
  configuration JSONB NOT NULL DEFAULT '{}',
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One family link only: users.parent_id (a student has exactly one parent account).
CREATE TABLE users (
  id UUID PRIMARY KEY NOT NULL,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  phone TEXT,
  role TEXT NOT NULL DEFAULT 'parent'
    CHECK (role IN ('parent', 'student', 'kitchen_staff', 'school_admin', 'admin')),
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'inactive', 'suspended', 'pending')),
  school_id UUID REFERENCES schools (id) ON DELETE SET NULL,
  parent_id UUID REFERENCES users (id) ON DELETE SET NULL CHECK (parent_id <> id),
  grade TEXT,
  section TEXT,
  profile_picture_url TEXT,
  timezone TEXT,
  language TEXT NOT NULL DEFAULT 'en',
  preferences JSONB NOT NULL DEFAULT '{}',
  metadata JSONB NOT NULL DEFAULT '{}',
  email_verified BOOLEAN NOT NULL DEFAULT FALSE,
  phone_verified BOOLEAN NOT NULL DEFAULT FALSE,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_login_at TIMESTAMPTZ
);

-- Refresh-token families. One row per issued refresh token; rotation inserts the successor
-- (rotated_from = predecessor) and sets the predecessor's replaced_by. Presenting a token whose
-- row has replaced_by or revoked_at set revokes the whole family_id. The access token's `sid`
-- claim is the family_id.
CREATE TABLE auth_sessions (
  id UUID PRIMARY KEY NOT NULL,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id UUID NOT NULL,
  refresh_token_hash TEXT NOT NULL UNIQUE,
  rotated_from UUID REFERENCES auth_sessions (id) ON DELETE SET NULL,
  replaced_by UUID REFERENCES auth_sessions (id) ON DELETE SET NULL,
  revoked_at TIMESTAMPTZ,
  revoke_reason TEXT,
  expires_at TIMESTAMPTZ NOT NULL,
  ip TEXT,
  user_agent TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ
);
CREATE INDEX "auth_sessions_familyId_idx" ON auth_sessions (family_id);
CREATE INDEX "auth_sessions_userId_createdAt_idx" ON auth_sessions (user_id, created_at);
CREATE INDEX "auth_sessions_expiresAt_idx" ON auth_sessions (expires_at);

CREATE TABLE audit_logs (
  id UUID PRIMARY KEY NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  action TEXT NOT NULL,
  changes JSONB NOT NULL DEFAULT '{}',
  user_id UUID REFERENCES users (id) ON DELETE SET NULL,
  created_by_id UUID REFERENCES users (id) ON DELETE SET NULL,
  ip_address TEXT,
  user_agent TEXT,
  request_id TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "audit_logs_entity_createdAt_idx" ON audit_logs (entity_type, entity_id, created_at);
CREATE INDEX "audit_logs_userId_createdAt_idx" ON audit_logs (user_id, created_at);

-- Idempotency-Key replay store (orders-create): response_status NULL = first request still
-- running.
CREATE TABLE idempotency_keys (
  id UUID PRIMARY KEY NOT NULL,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_method TEXT NOT NULL DEFAULT 'POST',
  request_path TEXT NOT NULL DEFAULT '',
  request_hash TEXT NOT NULL,
  response_status INTEGER,
  response_body TEXT,
  resource_id TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  UNIQUE (user_id, key)
);
CREATE INDEX "idempotency_keys_expiresAt_idx" ON idempotency_keys (expires_at);

-- ---------------------------------------------------------------------------------------------
-- Menus
-- ---------------------------------------------------------------------------------------------

CREATE TABLE menu_items (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID REFERENCES schools (id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  description TEXT,
  category TEXT NOT NULL,
  price_paise BIGINT NOT NULL CHECK (price_paise >= 0),
  original_price_paise BIGINT CHECK (original_price_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  available BOOLEAN NOT NULL DEFAULT TRUE,
  featured BOOLEAN NOT NULL DEFAULT FALSE,
  image_url TEXT,
  nutritional_info TEXT,
  allergens JSONB NOT NULL DEFAULT '[]',
  tags JSONB NOT NULL DEFAULT '[]',
  preparation_time INTEGER,
  portion_size TEXT,
  calories INTEGER,
  vendor_id TEXT,
  sort_order INTEGER NOT NULL DEFAULT 0,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "menu_items_schoolId_sortOrder_idx" ON menu_items (school_id, sort_order);

CREATE TABLE menu_plans (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  start_date DATE NOT NULL,
  end_date DATE NOT NULL,
  is_template BOOLEAN NOT NULL DEFAULT FALSE,
  is_recurring BOOLEAN NOT NULL DEFAULT FALSE,
  status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'pending_approval', 'approved', 'published', 'archived')),
  approval_workflow JSONB NOT NULL DEFAULT '{}',
  approved_by UUID REFERENCES users (id) ON DELETE SET NULL,
  approved_at TIMESTAMPTZ,
  recurring_pattern TEXT,
  template_category TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 1,
  created_by UUID REFERENCES users (id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (end_date >= start_date)
);

-- Fixes the original's drift: school_id exists (and is required), and a date is unique per
-- school, not globally.
CREATE TABLE daily_menus (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  menu_plan_id UUID REFERENCES menu_plans (id) ON DELETE SET NULL,
  date DATE NOT NULL,
  day_type TEXT NOT NULL DEFAULT 'WEEKDAY'
    CHECK (day_type IN ('WEEKDAY', 'WEEKEND', 'HOLIDAY', 'SPECIAL_EVENT')),
  special_event_info TEXT,
  available_quantity INTEGER,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  is_published BOOLEAN NOT NULL DEFAULT FALSE,
  published_at TIMESTAMPTZ,
  notes TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT "daily_menus_schoolId_date_key" UNIQUE (school_id, date)
);
CREATE INDEX "daily_menus_menuPlanId_idx" ON daily_menus (menu_plan_id);

-- The items on a daily menu. available_quantity NULL = unlimited; a limited slot is
-- decremented atomically by orders-create.
CREATE TABLE menu_item_slots (
  id UUID PRIMARY KEY NOT NULL,
  daily_menu_id UUID NOT NULL REFERENCES daily_menus (id) ON DELETE CASCADE,
  menu_item_id UUID NOT NULL REFERENCES menu_items (id) ON DELETE RESTRICT,
  category TEXT NOT NULL,
  available_from TIMESTAMPTZ,
  available_to TIMESTAMPTZ,
  planned_quantity INTEGER CHECK (planned_quantity >= 0),
  available_quantity INTEGER CHECK (available_quantity >= 0),
  custom_price_paise BIGINT CHECK (custom_price_paise >= 0),
  is_special BOOLEAN NOT NULL DEFAULT FALSE,
  is_limited BOOLEAN NOT NULL DEFAULT FALSE,
  max_per_order INTEGER CHECK (max_per_order >= 1),
  preparation_deadline TIMESTAMPTZ,
  kitchen_notes TEXT,
  display_order INTEGER NOT NULL DEFAULT 0,
  is_visible BOOLEAN NOT NULL DEFAULT TRUE,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT "menu_item_slots_dailyMenuId_menuItemId_category_key"
    UNIQUE (daily_menu_id, menu_item_id, category)
);
CREATE INDEX "menu_item_slots_dailyMenuId_displayOrder_idx"
  ON menu_item_slots (daily_menu_id, display_order);
CREATE INDEX "menu_item_slots_menuItemId_idx" ON menu_item_slots (menu_item_id);

-- ---------------------------------------------------------------------------------------------
-- Orders
-- ---------------------------------------------------------------------------------------------

CREATE TABLE orders (
  id UUID PRIMARY KEY NOT NULL,
  order_number TEXT NOT NULL UNIQUE,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  student_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'confirmed', 'preparing', 'ready', 'out_for_delivery',
                      'delivered', 'cancelled')),
  payment_status TEXT NOT NULL DEFAULT 'pending'
    CHECK (payment_status IN ('pending', 'paid', 'failed', 'refunded')),
  total_amount_paise BIGINT NOT NULL CHECK (total_amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  delivery_date DATE NOT NULL,
  delivered_at TIMESTAMPTZ,
  cancelled_at TIMESTAMPTZ,
  special_instructions TEXT,
  allergy_info TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  id UUID PRIMARY KEY NOT NULL,
  order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  menu_item_id UUID NOT NULL REFERENCES menu_items (id) ON DELETE RESTRICT,
  slot_id UUID REFERENCES menu_item_slots (id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1),
  unit_price_paise BIGINT NOT NULL CHECK (unit_price_paise >= 0),
  total_price_paise BIGINT NOT NULL CHECK (total_price_paise >= 0),
  customizations JSONB NOT NULL DEFAULT '{}',
  notes TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "order_items_orderId_idx" ON order_items (order_id);
CREATE INDEX "order_items_menuItemId_idx" ON order_items (menu_item_id);
CREATE INDEX "order_items_slotId_idx" ON order_items (slot_id);

-- ---------------------------------------------------------------------------------------------
-- Subscriptions (before payments: payments and payment orders may reference them)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE subscription_plans (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  plan_type TEXT NOT NULL,
  price_paise BIGINT NOT NULL CHECK (price_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  billing_cycle TEXT NOT NULL,
  meals_per_day INTEGER NOT NULL DEFAULT 1,
  meals_per_week INTEGER,
  meals_per_month INTEGER,
  benefits JSONB NOT NULL DEFAULT '[]',
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  available_from DATE,
  available_to DATE,
  trial_period_days INTEGER NOT NULL DEFAULT 0,
  trial_price_paise BIGINT CHECK (trial_price_paise >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "subscription_plans_schoolId_isActive_idx" ON subscription_plans (school_id, is_active);

CREATE TABLE payment_methods (
  id UUID PRIMARY KEY NOT NULL,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  method_type TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_method_id TEXT NOT NULL,
  card_last4 TEXT,
  card_brand TEXT,
  card_network TEXT,
  card_type TEXT,
  upi_handle TEXT,
  wallet_provider TEXT,
  is_default BOOLEAN NOT NULL DEFAULT FALSE,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "payment_methods_userId_isActive_idx" ON payment_methods (user_id, is_active);

CREATE TABLE subscriptions (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  student_id UUID REFERENCES users (id) ON DELETE SET NULL,
  subscription_plan_id UUID NOT NULL REFERENCES subscription_plans (id) ON DELETE RESTRICT,
  payment_method_id UUID REFERENCES payment_methods (id) ON DELETE SET NULL,
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'paused', 'cancelled', 'suspended', 'expired')),
  start_date DATE NOT NULL,
  end_date DATE,
  next_billing_date DATE,
  billing_cycle TEXT NOT NULL,
  billing_amount_paise BIGINT NOT NULL CHECK (billing_amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  proration_enabled BOOLEAN NOT NULL DEFAULT TRUE,
  proration_amount_paise BIGINT NOT NULL DEFAULT 0,
  grace_period_days INTEGER NOT NULL DEFAULT 3,
  dunning_attempts INTEGER NOT NULL DEFAULT 0,
  max_dunning_attempts INTEGER NOT NULL DEFAULT 3,
  suspended_at TIMESTAMPTZ,
  cancelled_at TIMESTAMPTZ,
  trial_period_days INTEGER NOT NULL DEFAULT 0,
  trial_end_date DATE,
  is_trial_active BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "subscriptions_subscriptionPlanId_idx" ON subscriptions (subscription_plan_id);

-- ---------------------------------------------------------------------------------------------
-- Payments (gateway: Razorpay or the simulated gateway, ids in Razorpay's shapes)
-- ---------------------------------------------------------------------------------------------

-- created -> attempted -> paid | failed; created/attempted -> expired (30 min).
CREATE TABLE payment_orders (
  id UUID PRIMARY KEY NOT NULL,
  gateway_order_id TEXT NOT NULL UNIQUE,
  gateway TEXT NOT NULL DEFAULT 'simulated',
  order_id UUID REFERENCES orders (id) ON DELETE RESTRICT,
  subscription_id UUID REFERENCES subscriptions (id) ON DELETE SET NULL,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  amount_paise BIGINT NOT NULL CHECK (amount_paise > 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'created'
    CHECK (status IN ('created', 'attempted', 'paid', 'failed', 'expired')),
  receipt TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  expires_at TIMESTAMPTZ NOT NULL,
  paid_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "payment_orders_orderId_status_idx" ON payment_orders (order_id, status);

-- One row per gateway payment; the unique gateway_payment_id is the dedupe guard of verify and
-- the webhook.
CREATE TABLE payment_transactions (
  id UUID PRIMARY KEY NOT NULL,
  gateway_payment_id TEXT NOT NULL UNIQUE,
  payment_order_id UUID NOT NULL REFERENCES payment_orders (id) ON DELETE RESTRICT,
  amount_paise BIGINT NOT NULL CHECK (amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'created'
    CHECK (status IN ('created', 'authorized', 'captured', 'refunded', 'failed')),
  method TEXT,
  gateway TEXT NOT NULL DEFAULT 'simulated',
  signature TEXT,
  fees JSONB NOT NULL DEFAULT '{}',
  error_code TEXT,
  error_description TEXT,
  captured_at TIMESTAMPTZ,
  refunded_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "payment_transactions_paymentOrderId_idx" ON payment_transactions (payment_order_id);

CREATE TABLE payment_refunds (
  id UUID PRIMARY KEY NOT NULL,
  gateway_refund_id TEXT NOT NULL UNIQUE,
  payment_transaction_id UUID NOT NULL REFERENCES payment_transactions (id) ON DELETE RESTRICT,
  amount_paise BIGINT NOT NULL CHECK (amount_paise > 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
  reason TEXT,
  notes JSONB NOT NULL DEFAULT '{}',
  processed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "payment_refunds_paymentTransactionId_idx" ON payment_refunds (payment_transaction_id);

-- The original's second payment model, kept for its indexes (#15-#17) and reports; the ten
-- functions write payment_orders/payment_transactions.
CREATE TABLE payments (
  id UUID PRIMARY KEY NOT NULL,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  order_id UUID REFERENCES orders (id) ON DELETE SET NULL,
  subscription_id UUID REFERENCES subscriptions (id) ON DELETE SET NULL,
  payment_method_id UUID REFERENCES payment_methods (id) ON DELETE SET NULL,
  amount_paise BIGINT NOT NULL CHECK (amount_paise >= 0),
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL,
  payment_type TEXT NOT NULL,
  gateway_payment_id TEXT,
  gateway_order_id TEXT,
  gateway_response JSONB NOT NULL DEFAULT '{}',
  failure_reason TEXT,
  retry_count INTEGER NOT NULL DEFAULT 0,
  paid_at TIMESTAMPTZ,
  refunded_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "payments_gatewayPaymentId_idx" ON payments (gateway_payment_id);
CREATE INDEX "payments_orderId_idx" ON payments (order_id);

CREATE TABLE billing_cycles (
  id UUID PRIMARY KEY NOT NULL,
  subscription_id UUID NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  cycle_number INTEGER NOT NULL,
  cycle_start DATE NOT NULL,
  cycle_end DATE NOT NULL,
  billing_amount_paise BIGINT NOT NULL,
  proration_amount_paise BIGINT NOT NULL DEFAULT 0,
  total_amount_paise BIGINT NOT NULL,
  currency TEXT NOT NULL DEFAULT 'INR',
  status TEXT NOT NULL DEFAULT 'pending',
  billing_date DATE NOT NULL,
  due_date DATE NOT NULL,
  paid_date DATE,
  payment_id UUID REFERENCES payments (id) ON DELETE SET NULL,
  dunning_attempts INTEGER NOT NULL DEFAULT 0,
  last_dunning_at TIMESTAMPTZ,
  next_dunning_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (subscription_id, cycle_number)
);

CREATE TABLE invoices (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE RESTRICT,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  invoice_number TEXT NOT NULL UNIQUE,
  invoice_date DATE NOT NULL,
  due_date DATE NOT NULL,
  subtotal_paise BIGINT NOT NULL,
  tax_amount_paise BIGINT NOT NULL DEFAULT 0,
  discount_amount_paise BIGINT NOT NULL DEFAULT 0,
  total_amount_paise BIGINT NOT NULL,
  currency TEXT NOT NULL DEFAULT 'INR',
  gst_number TEXT,
  gst_rate_bp INTEGER NOT NULL DEFAULT 0,
  hsn_code TEXT,
  place_of_supply TEXT,
  status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'cancelled')),
  sent_date DATE,
  paid_date DATE,
  payment_id UUID REFERENCES payments (id) ON DELETE SET NULL,
  pdf_url TEXT,
  pdf_generated_at TIMESTAMPTZ,
  email_sent BOOLEAN NOT NULL DEFAULT FALSE,
  email_sent_at TIMESTAMPTZ,
  email_delivered BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE invoice_items (
  id UUID PRIMARY KEY NOT NULL,
  invoice_id UUID NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  order_id UUID REFERENCES orders (id) ON DELETE SET NULL,
  description TEXT NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  unit_price_paise BIGINT NOT NULL,
  total_price_paise BIGINT NOT NULL,
  tax_rate_bp INTEGER NOT NULL DEFAULT 0,
  tax_amount_paise BIGINT NOT NULL DEFAULT 0,
  item_type TEXT NOT NULL,
  item_code TEXT,
  hsn_code TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "invoice_items_invoiceId_idx" ON invoice_items (invoice_id);

CREATE TABLE notifications (
  id UUID PRIMARY KEY NOT NULL,
  user_id UUID REFERENCES users (id) ON DELETE SET NULL,
  template_id TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  type TEXT NOT NULL,
  priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  data JSONB NOT NULL DEFAULT '{}',
  image_url TEXT,
  action_url TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'read')),
  channels JSONB NOT NULL DEFAULT '[]',
  scheduled_for TIMESTAMPTZ,
  sent_at TIMESTAMPTZ,
  delivered_at TIMESTAMPTZ,
  read_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "notifications_status_scheduledFor_idx" ON notifications (status, scheduled_for);

-- Daily/monthly report rows. Rates are basis points (integer) so no float reaches a report.
CREATE TABLE payment_analytics (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  report_date DATE NOT NULL,
  report_type TEXT NOT NULL,
  total_transactions INTEGER NOT NULL DEFAULT 0,
  successful_transactions INTEGER NOT NULL DEFAULT 0,
  failed_transactions INTEGER NOT NULL DEFAULT 0,
  total_amount_paise BIGINT NOT NULL DEFAULT 0,
  refunded_amount_paise BIGINT NOT NULL DEFAULT 0,
  average_amount_paise BIGINT NOT NULL DEFAULT 0,
  success_rate_bp INTEGER NOT NULL DEFAULT 0,
  method_breakdown JSONB NOT NULL DEFAULT '{}',
  data JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT "payment_analytics_schoolId_reportDate_reportType_key"
    UNIQUE (school_id, report_date, report_type)
);

CREATE TABLE subscription_analytics (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  report_date DATE NOT NULL,
  report_type TEXT NOT NULL,
  active_subscriptions INTEGER NOT NULL DEFAULT 0,
  new_subscriptions INTEGER NOT NULL DEFAULT 0,
  cancelled_subscriptions INTEGER NOT NULL DEFAULT 0,
  paused_subscriptions INTEGER NOT NULL DEFAULT 0,
  churn_rate_bp INTEGER NOT NULL DEFAULT 0,
  revenue_paise BIGINT NOT NULL DEFAULT 0,
  average_revenue_per_user_paise BIGINT NOT NULL DEFAULT 0,
  data JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CONSTRAINT "subscription_analytics_schoolId_reportDate_reportType_key"
    UNIQUE (school_id, report_date, report_type)
);

-- ---------------------------------------------------------------------------------------------
-- RFID
-- ---------------------------------------------------------------------------------------------

CREATE TABLE rfid_cards (
  id UUID PRIMARY KEY NOT NULL,
  card_number TEXT NOT NULL UNIQUE,
  student_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ,
  last_used_at TIMESTAMPTZ,
  deactivated_at TIMESTAMPTZ,
  deactivation_reason TEXT,
  metadata JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE rfid_readers (
  id UUID PRIMARY KEY NOT NULL,
  school_id UUID NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  location TEXT,
  ip_address TEXT,
  status TEXT NOT NULL DEFAULT 'offline'
    CHECK (status IN ('online', 'offline', 'maintenance', 'error')),
  last_heartbeat TIMESTAMPTZ,
  configuration JSONB NOT NULL DEFAULT '{}',
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX "rfid_readers_schoolId_isActive_idx" ON rfid_readers (school_id, is_active);

-- reader_id is nullable (the original's FK broke reader-less scans). An order is delivered once:
-- at most one 'verified' row per order (partial unique index below).
CREATE TABLE delivery_verifications (
  id UUID PRIMARY KEY NOT NULL,
  order_id UUID REFERENCES orders (id) ON DELETE RESTRICT,
  student_id UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  card_id UUID NOT NULL REFERENCES rfid_cards (id) ON DELETE RESTRICT,
  reader_id UUID REFERENCES rfid_readers (id) ON DELETE SET NULL,
  verified_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  status TEXT NOT NULL DEFAULT 'verified' CHECK (status IN ('verified', 'failed', 'duplicate')),
  location TEXT,
  delivery_photo TEXT,
  verification_notes TEXT,
  verification_data JSONB NOT NULL DEFAULT '{}',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "delivery_verifications_orderId_verified_key"
  ON delivery_verifications (order_id) WHERE status = 'verified';
CREATE INDEX "delivery_verifications_orderId_idx" ON delivery_verifications (order_id);
CREATE INDEX "delivery_verifications_cardId_idx" ON delivery_verifications (card_id);
