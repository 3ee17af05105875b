-- GENERATED from template/0006_orders_school_day_index.sql.in by gen.py for postgresql; edit the template.
-- 0006_orders_school_day_index: a kitchen's list of one day (orders-list as kitchen staff or a
-- school admin with dateFrom = dateTo, newest first) read in page order from the index, instead
-- of every order of the school's day found by (school_id, delivery_date) and then sorted: about
-- 450 orders a day in a medium school, sorted for each page of 20.
CREATE INDEX "orders_schoolId_deliveryDate_createdAt_id_idx" ON orders (school_id, delivery_date, created_at DESC, id DESC);
