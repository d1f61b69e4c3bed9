#!/usr/bin/env bash
# demo.sh - one full migration on this machine, nothing to configure.
#
# Starts the throwaway source and target servers (scripts/testdb.sh), loads a small shop
# database into the source (customers, products, orders, order_items, page_views without a
# primary key, a view; ~117k rows with JSON and utf8mb4 text, generated in SQL), writes the
# job file .tidm/demo-job.yaml (type all), runs `tidm precheck` and
# `tidm migrate --until-caught-up` on it and prints the row counts of both sides. Then it
# starts `tidm server` (the job service and its web console) on the same servers with the
# same job, which resumes from its checkpoint and keeps replicating, and prints the
# console's URL. Everything keeps running afterwards; `bash scripts/demo.sh stop` ends the
# server and `bash scripts/testdb.sh stop` the databases.
#
# Environment: TIDM_BIN (default build/tidm), TIDM_TESTDB_DIR (default .tidm/testdb),
# DEMO_SCALE (default 1: row counts are multiplied by it), DEMO_PORT (default 8261: the
# console's port; a free one is taken when it is busy).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
tidm=${TIDM_BIN:-$top/build/tidm}
scale=${DEMO_SCALE:-1}
job=$top/.tidm/demo-job.yaml
server_dir=$top/.tidm/server
server_pid=$top/.tidm/server.pid

stop_server() {
	if [ -r "$server_pid" ] && kill "$(cat "$server_pid")" 2>/dev/null; then
		for _ in $(seq 1 100); do
			kill -0 "$(cat "$server_pid")" 2>/dev/null || break
			sleep 0.1
		done
		echo "demo: tidm server stopped"
	fi
	rm -f "$server_pid"
}
if [ "${1:-}" = stop ]; then
	stop_server
	exit 0
fi

if [ ! -x "$tidm" ]; then
	echo "demo: $tidm not found; build first:" >&2
	echo "  cmake -S . -B build && cmake --build build -j2" >&2
	exit 1
fi

bash scripts/testdb.sh start
eval "$(bash scripts/testdb.sh env)"

src() { bash scripts/testdb.sh sql source --batch --skip-column-names "$@"; }
tgt() { bash scripts/testdb.sh sql target --batch --skip-column-names "$@"; }

n_customers=$((20000 * scale))
n_products=$((2000 * scale))
n_orders=$((30000 * scale))
n_views=$((5000 * scale))

echo "demo: loading database 'shop' into the source (127.0.0.1:$TIDM_TEST_SOURCE_PORT)"
start_s=$SECONDS
src <<SQL
DROP DATABASE IF EXISTS shop;
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE shop;

CREATE TABLE customers (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(190) NOT NULL,
  country CHAR(2) NOT NULL,
  prefs JSON NULL,
  created_at DATETIME(3) NOT NULL,
  UNIQUE KEY uk_email (email),
  KEY idx_country (country)
) ENGINE=InnoDB;

CREATE TABLE products (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  sku VARCHAR(32) NOT NULL,
  title VARCHAR(200) NOT NULL,
  description TEXT NULL,
  price DECIMAL(10,2) NOT NULL,
  attrs JSON NULL,
  stock INT NOT NULL,
  active TINYINT(1) NOT NULL DEFAULT 1,
  UNIQUE KEY uk_sku (sku)
) ENGINE=InnoDB;

CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
  placed_at DATETIME NOT NULL,
  note VARCHAR(255) NULL,
  KEY idx_customer (customer_id),
  KEY idx_placed (placed_at),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;

CREATE TABLE order_items (
  order_id BIGINT UNSIGNED NOT NULL,
  line SMALLINT UNSIGNED NOT NULL,
  product_id INT UNSIGNED NOT NULL,
  qty INT NOT NULL,
  unit_price DECIMAL(10,2) NOT NULL,
  PRIMARY KEY (order_id, line),
  KEY idx_product (product_id),
  CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT fk_items_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB;

-- no primary key and no unique key: copied all the same
CREATE TABLE page_views (
  viewed_at DATETIME NOT NULL,
  customer_id INT UNSIGNED NULL,
  path VARCHAR(200) NOT NULL,
  referrer VARCHAR(200) NULL
) ENGINE=InnoDB;

INSERT INTO customers
SELECT seq,
       CONCAT(ELT(1 + seq % 8, 'Ana', 'Björn', 'Chloé', 'Dmitri', 'Eun-ji', 'Fatima', 'György', 'Hiroshi'), ' ',
              ELT(1 + (seq DIV 8) % 7, 'García', 'Müller', 'Nguyễn', 'Øvergaard', '王', 'Šťastný', 'O''Brien')),
       CONCAT('user', seq, '@example.com'),
       ELT(1 + seq % 7, 'US', 'DE', 'VN', 'NO', 'CN', 'CZ', 'IE'),
       IF(seq % 10 = 0, NULL,
          JSON_OBJECT('newsletter', seq % 3 = 0,
                      'lang', ELT(1 + seq % 4, 'en', 'de', 'zh', 'vi'),
                      'tags', JSON_ARRAY(CONCAT('t', seq % 5), IF(seq % 13 = 0, '⭐ vip', 'regular')))),
       TIMESTAMP('2023-01-01') + INTERVAL seq * 7 MINUTE + INTERVAL (seq % 1000) * 1000 MICROSECOND
FROM seq_1_to_${n_customers};

INSERT INTO products
SELECT seq,
       CONCAT('SKU-', LPAD(seq, 6, '0')),
       CONCAT(ELT(1 + seq % 6, 'Café ☕ mug', 'Tee-Shirt größe M', '茶壶 teapot', 'Notebook ✏️', 'Bánh mì kit', 'Smørrebrød board'),
              ' #', seq),
       IF(seq % 9 = 0, NULL, REPEAT(CONCAT('Line ', seq % 17, ' of a longer description. '), 1 + seq % 5)),
       ROUND(1 + (seq * 37 % 20000) / 100, 2),
       JSON_OBJECT('color', ELT(1 + seq % 4, 'red', 'green', 'blue', 'black'),
                   'size', ELT(1 + seq % 3, 'S', 'M', 'L'),
                   'dims', JSON_ARRAY(seq % 30, seq % 20, seq % 10)),
       seq * 13 % 500,
       seq % 25 <> 0
FROM seq_1_to_${n_products};

INSERT INTO orders
SELECT seq,
       1 + (seq * 7919) % ${n_customers},
       ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'),
       TIMESTAMP('2024-01-01') + INTERVAL seq * 11 MINUTE,
       CASE WHEN seq % 17 = 0 THEN CONCAT('🎁 gift wrap, card: "Alles Gute!" #', seq)
            WHEN seq % 5 = 0 THEN 'leave at the door'
            ELSE NULL END
FROM seq_1_to_${n_orders};

INSERT INTO order_items
SELECT o.id, s.seq, p.id, 1 + (o.id + s.seq) % 5, p.price
FROM orders o
JOIN seq_1_to_3 s ON s.seq <= 1 + o.id % 3
JOIN products p ON p.id = 1 + (o.id * 31 + s.seq * 17) % ${n_products};

INSERT INTO page_views
SELECT TIMESTAMP('2024-06-01') + INTERVAL seq DIV 3 SECOND,
       IF(seq % 4 = 0, NULL, 1 + seq % ${n_customers}),
       CONCAT('/products/', 1 + seq % ${n_products}),
       ELT(1 + seq % 3, NULL, 'https://search.example/?q=mug', 'https://例え.jp/')
FROM seq_1_to_${n_views};

CREATE VIEW order_totals AS
SELECT o.id AS order_id, o.customer_id, o.status, SUM(i.qty * i.unit_price) AS total
FROM orders o JOIN order_items i ON i.order_id = o.id
GROUP BY o.id, o.customer_id, o.status;
SQL
total=$(src -e "SELECT SUM(table_rows) FROM information_schema.tables WHERE table_schema = 'shop' AND table_type = 'BASE TABLE'")
echo "demo: source loaded in $((SECONDS - start_s))s (about $total rows)"

# A fresh target: remove what an earlier demo left there (its server, job checkpoints included).
stop_server
rm -rf "$server_dir"
tgt -e "DROP DATABASE IF EXISTS shop; DROP DATABASE IF EXISTS tidm_meta"

mkdir -p "$(dirname "$job")"
cat >"$job" <<YAML
# Written by scripts/demo.sh: the demo source and target of scripts/testdb.sh.
name: shop-demo
type: all
mode: logical
source:
  host: $TIDM_TEST_SOURCE_HOST
  port: $TIDM_TEST_SOURCE_PORT
  user: $TIDM_TEST_SOURCE_USER
  password-env: TIDM_TEST_SOURCE_PASSWORD
target:
  host: $TIDM_TEST_TARGET_HOST
  port: $TIDM_TEST_TARGET_PORT
  user: $TIDM_TEST_TARGET_USER
  password-env: TIDM_TEST_TARGET_PASSWORD
objects:
  databases: [shop]
spec:
  dump-threads: 2
  load-threads: 2
# shop.page_views has no key (on purpose): the precheck warns about it (keyless-tables),
# and this job accepts that warning by its id. \`tidm precheck\` on this file shows it.
precheck:
  ignore: [keyless-tables]
YAML
echo "demo: job file $job"

echo "demo: $tidm precheck $job"
"$tidm" precheck "$job" || { rc=$?; echo "demo: the precheck stops the job (exit $rc)" >&2; exit "$rc"; }
echo "demo: $tidm migrate --until-caught-up $job"
start_s=$SECONDS
rc=0
"$tidm" migrate --until-caught-up "$job" || rc=$?
elapsed=$((SECONDS - start_s))
if [ "$rc" -ne 0 ]; then
	echo "demo: tidm migrate failed (exit $rc) after ${elapsed}s" >&2
	exit "$rc"
fi
echo "demo: migration finished in ${elapsed}s"

# Row counts side by side.
echo
printf '%-14s %12s %12s  %s\n' table source target ""
ok=1
for t in $(src -e "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop' AND table_type = 'BASE TABLE' ORDER BY table_name"); do
	s=$(src -e "SELECT COUNT(*) FROM shop.\`$t\`")
	d=$(tgt -e "SELECT COUNT(*) FROM shop.\`$t\`" 2>/dev/null || echo missing)
	mark=ok
	if [ "$s" != "$d" ]; then
		mark=DIFFERENT
		ok=0
	fi
	printf '%-14s %12s %12s  %s\n' "$t" "$s" "$d" "$mark"
done
view=$(tgt -e "SELECT COUNT(*) FROM information_schema.views WHERE table_schema = 'shop' AND table_name = 'order_totals'" 2>/dev/null || echo 0)
if [ "$view" = 1 ]; then
	printf '%-14s %12s %12s  %s\n' order_totals view view ok
else
	printf '%-14s %12s %12s  %s\n' order_totals view missing DIFFERENT
	ok=0
fi
echo
if [ "$ok" -ne 1 ]; then
	echo "demo: source and target differ" >&2
	exit 1
fi

# The job service and its console, on the same job: it resumes from the checkpoint the
# migration left in tidm_meta and keeps replicating.
mkdir -p "$server_dir"
port=${DEMO_PORT:-8261}
start_server() {
	setsid "$tidm" server --listen "127.0.0.1:$1" --data-dir "$server_dir/data" >"$server_dir/server.log" 2>&1 </dev/null &
	echo $! >"$server_pid"
	for _ in $(seq 1 100); do
		grep -q 'serving the API on' "$server_dir/server.log" && return 0
		kill -0 "$(cat "$server_pid")" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
if ! start_server "$port"; then
	start_server 0 || { echo "demo: tidm server did not start: $(tail -3 "$server_dir/server.log")" >&2; exit 1; }
fi
url=$(sed -nE 's|.*serving the API on (https?://[^/]+)/.*|\1|p' "$server_dir/server.log" | head -1)
"$tidm" job create "$job" --start --server "$url" >/dev/null
echo "demo: the job keeps replicating under tidm server; the web console:"
echo
echo "    $url/"
echo
echo "Make a change and watch it arrive (the console's job page shows it):"
echo "    bash scripts/testdb.sh sql source shop -e \"UPDATE products SET price = price + 1 WHERE id <= 10\""
echo "Look around:  bash scripts/testdb.sh sql target shop     $tidm job list --server $url"
echo "Stop:         bash scripts/demo.sh stop && bash scripts/testdb.sh stop"
