-- Every MariaDB column type with edge values, hostile identifiers, composite keys, a
-- keyless table and a view. Loaded into the current database by tests (USE first).
CREATE TABLE `all types` (
  id INT NOT NULL PRIMARY KEY,
  t_tiny TINYINT, t_utiny TINYINT UNSIGNED,
  t_small SMALLINT, t_usmall SMALLINT UNSIGNED,
  t_med MEDIUMINT, t_umed MEDIUMINT UNSIGNED,
  t_int INT, t_uint INT UNSIGNED,
  t_big BIGINT, t_ubig BIGINT UNSIGNED,
  t_dec DECIMAL(65,30), t_dec2 DECIMAL(10,2) UNSIGNED,
  t_float FLOAT, t_double DOUBLE,
  t_date DATE, t_time TIME(6), t_time0 TIME, t_dt DATETIME(6), t_dt0 DATETIME, t_ts TIMESTAMP(6) NULL DEFAULT NULL,
  t_year YEAR,
  t_char CHAR(10), t_varchar VARCHAR(255), t_text TEXT, t_mtext MEDIUMTEXT, t_ltext LONGTEXT, t_ttext TINYTEXT,
  t_latin1 VARCHAR(50) CHARACTER SET latin1,
  t_binary BINARY(8), t_varbinary VARBINARY(64), t_blob BLOB, t_tblob TINYBLOB, t_mblob MEDIUMBLOB, t_lblob LONGBLOB,
  t_enum ENUM('a','b c','d''e','ü'), t_set SET('x','y','z'),
  t_bit1 BIT(1), t_bit64 BIT(64),
  t_json JSON,
  t_geom GEOMETRY, t_point POINT,
  t_uuid_like CHAR(36) CHARACTER SET ascii
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

INSERT INTO `all types` VALUES
(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
 '-99999999999999999999999999999999999.999999999999999999999999999999', 0.00,
 -3.40282e38, -1.7976931348623157e308,
 '1000-01-01', '-838:59:59.000000', '-838:59:59', '1000-01-01 00:00:00.000000', '1000-01-01 00:00:00', '1970-01-01 00:00:01.000000',
 1901, '', '', '', '', '', '', '',
 X'0000000000000000', X'', X'', X'', X'', X'',
 'a', '', b'0', b'0', '{}', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)'), '00000000-0000-0000-0000-000000000000'),
(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
 '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99,
 3.40282e38, 1.7976931348623157e308,
 '9999-12-31', '838:59:59.000000', '838:59:59', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999',
 2155, 'abcdefghij', CONCAT('emoji 😀🎉 ', REPEAT('é', 10)), REPEAT('long text ', 1000), REPEAT('m', 70000), REPEAT('L', 100000), 'tiny',
 'café latin1 ÿ',
 X'FF00FF00FF00FF00', X'00010203FF5C27225C', X'00FF0D0A1A5C27', X'FF', REPEAT(X'AB', 70000), REPEAT(X'00', 100000),
 'ü', 'x,y,z', b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
 '{"a": [1, 2.5, "x\\"y", null, true, {"b": "😀"}], "n": -1e300}',
 ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(5 5,7 5,7 7,5 7,5 5))'), ST_GeomFromText('POINT(1e10 -1e-10)'), 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 0, 1, -1, 1, 0, 1, -1, 1, -1, 1, '0.000000000000000000000000000001', 0.01, 1.17549e-38, 2.2250738585072014e-308,
 '2024-02-29', '00:00:00.000001', '00:00:00', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56', '2024-02-29 12:34:56.654321',
 2024, 'quote''s', 'back\\slash \'single\' "double" \n newline \r cr \t tab \0 nul', 'Ctrl-Z \Z end', '', '', '',
 '',
 X'5C00270022000A0D', X'1A', X'0D0A', X'27', X'5C', X'22',
 'd''e', 'y', b'1', b'1000000000000000000000000000000000000000000000000000000000000001',
 '[1, "two", [3], {"4": 5}]', ST_GeomFromText('LINESTRING(0 0,1 1,2 1)'), NULL, NULL),
(5, -1, 128, 0, 0, 0, 0, 0, 0, 0, 9223372036854775808, '-0.5', 0.5, 0.1, 0.1,
 '0000-00-00', '-00:00:00.5', '-00:00:01', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', NULL,
 0, 'ǅ日本語', 'Ελληνικά русский 中文 العربية עברית', 'mixed 😀 text', '', '', '', '',
 X'', X'', NULL, NULL, NULL, NULL,
 'b c', 'x,z', NULL, b'0101', 'null', ST_GeomFromText('MULTIPOINT(0 0,1 1)'), ST_GeomFromText('POINT(0 0)'), 'abc');

-- Composite keys (string + int), with enough rows for several chunks.
CREATE TABLE `composite key` (
  `region` VARCHAR(20) NOT NULL, `n` INT NOT NULL, `v` VARCHAR(50), PRIMARY KEY (`region`, `n`)
) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
INSERT INTO `composite key` SELECT ELT(1 + seq % 5, 'north', 'South', 'éast', 'west', 'Zürich'), seq, CONCAT('v', seq) FROM seq_1_to_12000;

-- No key at all, with duplicate rows.
CREATE TABLE `no key` (a INT, b VARCHAR(20), c DOUBLE) CHARACTER SET utf8mb4;
INSERT INTO `no key` VALUES (1,'dup',1.5),(1,'dup',1.5),(NULL,NULL,NULL),(2,'',0),(2,'',0),(3,'x',-0.0);

-- A unique NOT NULL key but no primary key.
CREATE TABLE `uk only` (u VARBINARY(16) NOT NULL, x INT, UNIQUE KEY (u)) CHARACTER SET utf8mb4;
INSERT INTO `uk only` SELECT UNHEX(MD5(seq)), seq FROM seq_1_to_3000;

-- Hostile identifiers.
CREATE TABLE `select` (`from` INT PRIMARY KEY, `where` VARCHAR(10), `order by` INT) CHARACTER SET utf8mb4;
INSERT INTO `select` VALUES (1, 'and', 2), (2, 'or', NULL);
CREATE TABLE `we``ird.name` (`co``l.1` INT PRIMARY KEY, `naïve ñ 列` VARCHAR(10)) CHARACTER SET utf8mb4;
INSERT INTO `we``ird.name` VALUES (1, 'ok'), (2, '`'), (3, '''');
CREATE TABLE `ünïcödé tàble` (`ключ` INT PRIMARY KEY, `值` TEXT) CHARACTER SET utf8mb4;
INSERT INTO `ünïcödé tàble` VALUES (1, '一'), (2, '二');

-- Generated columns (must not be copied as data) and a view.
CREATE TABLE `generated` (id INT PRIMARY KEY, a INT, b INT AS (a * 2) VIRTUAL, c INT AS (a + 1) STORED) CHARACTER SET utf8mb4;
INSERT INTO `generated` (id, a) VALUES (1, 10), (2, NULL);
CREATE VIEW `a view` AS SELECT `from`, `where` FROM `select` WHERE `from` > 0;
