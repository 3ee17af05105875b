-- GENERATED from template/0005_orders_item_count.sql.in by gen.py for postgresql; edit the template.
-- 0005_orders_item_count: the number of lines of an order, kept on the order row. orders-list
-- shows it for every order of a page; counting order_items per row cost one more index seek per
-- order (and a correlated subquery) on the hottest read. Lines are only ever written together
-- with their order, in the transaction of orders-create (and by seeding), which set it.
ALTER TABLE orders ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0 CHECK (item_count >= 0);
UPDATE orders SET item_count = (SELECT COUNT(*) FROM order_items oi WHERE oi.order_id = orders.id);
