-- GENERATED from template/0004_orders_keyset_indexes.sql.in by gen.py for sqlite; edit the template.
-- 0004_orders_keyset_indexes: keyset pages of orders by delivery date (orders-list
-- sort=deliveryDate / -deliveryDate) per student (parents, students), per school (staff) and
-- overall (admin). A page after (delivery_date, id) is one index seek plus `limit` entries,
-- whatever its depth; read backwards for the descending sort.
CREATE INDEX "orders_studentId_deliveryDate_id_idx" ON orders (student_id, delivery_date, id);
CREATE INDEX "orders_schoolId_deliveryDate_id_idx" ON orders (school_id, delivery_date, id);
CREATE INDEX "orders_deliveryDate_id_idx" ON orders (delivery_date, id);
