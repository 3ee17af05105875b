-- GENERATED from template/0002_performance_indexes.sql.in by gen.py for sqlite; edit the template.
-- 0002_performance_indexes: the 36 indexes of the original's performance migration
-- (reference §2, same names, same columns), which now all apply (#35 needs daily_menus.school_id,
-- created in 0001), followed by the indexes the hot queries need (store/hot_queries.h).
-- Redundancies are kept for name compatibility and documented in migrations/INDEXES.md.

-- §2 #1-#36
CREATE INDEX "users_role_status_idx" ON users (role, status);
CREATE INDEX "users_schoolId_role_isActive_idx" ON users (school_id, role, is_active);
CREATE INDEX "users_parentId_isActive_idx" ON users (parent_id, is_active);
CREATE INDEX "users_createdAt_desc_idx" ON users (created_at DESC);
CREATE INDEX "orders_userId_createdAt_desc_idx" ON orders (user_id, created_at DESC);
CREATE INDEX "orders_schoolId_deliveryDate_status_idx" ON orders (school_id, delivery_date, status);
CREATE INDEX "orders_studentId_deliveryDate_desc_idx" ON orders (student_id, delivery_date DESC);
CREATE INDEX "orders_status_paymentStatus_idx" ON orders (status, payment_status);
CREATE INDEX "payment_orders_userId_createdAt_desc_idx" ON payment_orders (user_id, created_at DESC);
CREATE INDEX "payment_orders_status_expiresAt_idx" ON payment_orders (status, expires_at);
CREATE INDEX "rfid_cards_studentId_isActive_idx" ON rfid_cards (student_id, is_active);
CREATE INDEX "rfid_cards_schoolId_isActive_idx" ON rfid_cards (school_id, is_active);
CREATE INDEX "rfid_cards_cardNumber_isActive_idx" ON rfid_cards (card_number, is_active);
CREATE INDEX "rfid_cards_expiresAt_idx" ON rfid_cards (expires_at);
CREATE INDEX "payments_userId_paidAt_desc_idx" ON payments (user_id, paid_at DESC);
CREATE INDEX "payments_status_createdAt_idx" ON payments (status, created_at);
CREATE INDEX "payments_subscriptionId_status_idx" ON payments (subscription_id, status);
CREATE INDEX "subscriptions_userId_status_idx" ON subscriptions (user_id, status);
CREATE INDEX "subscriptions_schoolId_status_idx" ON subscriptions (school_id, status);
CREATE INDEX "subscriptions_status_nextBillingDate_idx" ON subscriptions (status, next_billing_date);
CREATE INDEX "subscriptions_studentId_status_idx" ON subscriptions (student_id, status);
CREATE INDEX "invoices_userId_invoiceDate_desc_idx" ON invoices (user_id, invoice_date DESC);
CREATE INDEX "invoices_schoolId_status_idx" ON invoices (school_id, status);
CREATE INDEX "invoices_status_dueDate_idx" ON invoices (status, due_date);
CREATE INDEX "menu_items_category_available_idx" ON menu_items (category, available);
CREATE INDEX "menu_items_featured_available_idx" ON menu_items (featured, available);
CREATE INDEX "delivery_verifications_studentId_verifiedAt_desc_idx"
  ON delivery_verifications (student_id, verified_at DESC);
CREATE INDEX "delivery_verifications_readerId_verifiedAt_desc_idx"
  ON delivery_verifications (reader_id, verified_at DESC);
CREATE INDEX "notifications_userId_createdAt_desc_idx" ON notifications (user_id, created_at DESC);
CREATE INDEX "notifications_userId_status_idx" ON notifications (user_id, status);
CREATE INDEX "billing_cycles_subscriptionId_cycleStart_idx"
  ON billing_cycles (subscription_id, cycle_start);
CREATE INDEX "billing_cycles_status_nextDunningAt_idx" ON billing_cycles (status, next_dunning_at);
CREATE INDEX "payment_analytics_schoolId_reportDate_idx"
  ON payment_analytics (school_id, report_date DESC);
CREATE INDEX "subscription_analytics_schoolId_reportDate_idx"
  ON subscription_analytics (school_id, report_date DESC);
CREATE INDEX "daily_menus_schoolId_date_isActive_idx" ON daily_menus (school_id, date, is_active);
CREATE INDEX "menu_plans_schoolId_status_startDate_idx"
  ON menu_plans (school_id, status, start_date);

-- Hot queries: keyset pages of orders (created_at DESC, id DESC) per student (parents and
-- students), per school (staff) and overall (admin); the page cost is one index seek plus
-- `limit` entries, whatever the depth.
CREATE INDEX "orders_studentId_createdAt_id_desc_idx"
  ON orders (student_id, created_at DESC, id DESC);
CREATE INDEX "orders_schoolId_createdAt_id_desc_idx"
  ON orders (school_id, created_at DESC, id DESC);
CREATE INDEX "orders_createdAt_id_desc_idx" ON orders (created_at DESC, id DESC);
