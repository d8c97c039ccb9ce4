//! JSON functions (text JSON, JSONB, JSON5 input, paths, subtypes, aggregates), checked
//! against SQLite itself statement by statement: values, storage classes and error
//! messages must match. Ends with a seeded randomised comparison over generated
//! documents, paths and arbitrary bytes as JSONB.

mod common;
use common::*;

#[test]
fn json_basics() {
    same_as_sqlite_with_messages(
        "SELECT json(' { \"a\" : [1, 2.5, \"x\", null, true, false] } ');
         SELECT json('[1,2'), 1;
         SELECT json(''), 1;
         SELECT json(NULL), json(5), json(1.5), json('\"\\u0041\"');
         SELECT json('{\"a\":1,\"a\":2}');
         SELECT json('[1e400, -1e400, 1E5, 0.5e-3, -0]');
         SELECT json(' 12 '), json('\"abc\" '), json('nul'), 1;
         SELECT json_valid('{}'), json_valid('{'), json_valid(NULL), json_valid('[1,]'), json_valid(''), json_valid(x'00');
         SELECT json_valid('{a:1}', 1), json_valid('{a:1}', 2), json_valid('{a:1}', 6), json_valid('[]', 0);
         SELECT json_valid('[]', 16);
         SELECT json_valid(jsonb('[1]')), json_valid(jsonb('[1]'), 4), json_valid(jsonb('[1]'), 8), json_valid(x'13', 8), json_valid(x'1331', 8);
         SELECT json_type('{\"a\":[1,2.0,\"s\",null,true,false,{}]}'), json_type('[1]', '$[0]'), json_type('{\"a\":1}', '$.b');
         SELECT json_type('{\"a\":[1,2.0,\"s\",null,true,false,{}]}', '$.a[' || value || ']') FROM (SELECT 0 AS value UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6);
         SELECT json_type('[1]', 'x');
         SELECT json_type('[1]', '$[');
         SELECT json_array_length('[1,2,3]'), json_array_length('{}'), json_array_length('[[1,2]]', '$[0]'), json_array_length('[1]', '$[5]');
         SELECT json_array_length('[1]', 'a');
         SELECT json_quote('a\"b'), json_quote(1), json_quote(1.5), json_quote(NULL), json_quote(json('[1]')), json_quote('[1]');
         SELECT json_quote(x'01');
         SELECT json_error_position('[1,2'), json_error_position('{}'), json_error_position('{\"a\":x}'), json_error_position(NULL), json_error_position(''), json_error_position('[1] x'), json_error_position('ü[1,'), json_error_position(x'1b');",
    );
}

#[test]
fn json_constructors_and_subtypes() {
    same_as_sqlite_with_messages(
        "SELECT json_array(1, 2.5, 'x', NULL, json('[1]'), '[1]', x'');
         SELECT json_array(1, 2.5, 'x', NULL, json('[1]'), '[1]');
         SELECT json_array(), json_object(), json_array(json_array(json_object('a', json('{}'))));
         SELECT json_object('a', 1, 'b', '[2]', 'c', json('[2]'), 'd', json_quote('q'));
         SELECT json_object('a');
         SELECT json_object(1, 2);
         SELECT json_object(json('\"x\"'), 2);
         SELECT json_array(1e400, -1e400, 0.1, 1e20, 1.0, -0.0, 123456789012345678);
         SELECT json_object('k', 'v') -> '$.k', json_object('k', 'v') ->> '$.k', json_array(json_object('k', 'v') -> '$.k');
         SELECT json_array(json_extract('{\"a\":[1]}', '$.a')), json_array(json_extract('{\"a\":\"[1]\"}', '$.a'));
         SELECT json_array((json('[1]'))), json_array(coalesce(json('[1]'), json('[2]'))), json_array(coalesce(NULL, '[2]'));
         SELECT json_array((SELECT json('[1]'))), json_array(CASE WHEN 1 THEN json('[1]') ELSE '[2]' END), json_array(coalesce(NULL, json('[1]'))), json_array(coalesce(json('[1]'), 'x')), json_array(iif(0, json('[1]'), '[3]'));
         SELECT json_array(x) FROM (SELECT json('[1]') AS x);
         WITH c(x) AS (SELECT json('[1]')) SELECT json_array(x) FROM c;
         CREATE TABLE s(g, j);
         INSERT INTO s VALUES (1, '{\"a\":[1]}'), (1, '{\"a\":\"s\"}'), (2, '{\"a\":{}}'), (3, '{\"a\":\"[9]\"}');
         SELECT g, json_array(CASE WHEN g = 1 THEN json_extract(j, '$.a') ELSE j ->> '$.a' END), json_array(coalesce(json_extract(j, '$.b'), j -> '$.a')) FROM s ORDER BY rowid;
         SELECT json_group_array(json_extract(j, '$.a')), json_group_array(CASE WHEN g > 1 THEN json_extract(j, '$.a') ELSE 'x' END) FROM s;
         SELECT g, json_group_array(j -> '$.a') FROM s GROUP BY g ORDER BY g;
         SELECT json_array((SELECT json_extract(j, '$.a') FROM s AS i WHERE i.g = s.g)) FROM s ORDER BY rowid;
         SELECT subtype(json('1')), subtype('1'), subtype(json_extract('[1]', '$[0]')), subtype(json_extract('[[1]]', '$[0]'));
         SELECT json_array(jsonb('[1,{\"a\":2}]')), json_object('x', jsonb('\"s\"'));
         SELECT jsonb_array(1, 'two', json('[3]')), jsonb_object('a', 1), hex(jsonb('{\"a\":[1,2,{\"b\":null}]}'));",
    );
}

#[test]
fn json_paths_and_extract() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, j TEXT);
         INSERT INTO t VALUES (1, '{\"a\":1,\"b\":[10,20,30],\"c\":{\"d\":\"e\",\"f g\":true},\"h\":null}');
         INSERT INTO t VALUES (2, '[1,[2,[3,[4]]]]');
         INSERT INTO t VALUES (3, 'not json');
         SELECT json_extract(j, '$.a'), json_extract(j, '$.b'), json_extract(j, '$.b[1]'), json_extract(j, '$.b[#-1]'), json_extract(j, '$.c.\"f g\"'), json_extract(j, '$.h'), json_extract(j, '$.zz') FROM t WHERE id = 1;
         SELECT json_extract(j, '$.a', '$.b[0]', '$.nope'), json_extract(j, '$') FROM t WHERE id = 1;
         SELECT j -> '$.b', j ->> '$.b', j -> 'a', j ->> 'c', j -> 1, j ->> '$.c.d', j -> '[1]', j -> 'f g' FROM t WHERE id = 1;
         SELECT j -> 1, j ->> 1, j -> '$[1][1][0]', j -> '$[#]', j -> '$[#-2]', j -> '$[#-9]' FROM t WHERE id = 2;
         SELECT j -> '$.a' FROM t WHERE id = 3;
         SELECT json_extract('[1,2]', 'x');
         SELECT json_extract('[1,2]', '$x');
         SELECT json_extract('[1,2]', '$[');
         SELECT json_extract('[1,2]', '$[1');
         SELECT json_extract('{\"a\":1}', '$.');
         SELECT json_extract('{\"a\":1}', '$.\"a');
         SELECT json_extract('[1,2]', '$[#-x]');
         SELECT json_extract('[1,2]', NULL), json_extract(NULL, '$'), json_extract('[1]'), json_extract('[1]', '$[0]', NULL);
         SELECT '[1,2]' -> -1;
         SELECT json_extract('{\"a\\u0062\":5}', '$.ab'), json_extract('{\"ab\":5}', '$.\"a\\u0062\"'), json_extract('{\"a\":\"x\\ny\\u00e9\\ud83d\\ude00\"}', '$.a');
         SELECT json_extract('[9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854775809, 0x1F, -0x10, 1.5e3, .5, 5., +7, Infinity, -Infinity, NaN]', '$[' || x || ']') FROM (SELECT 0 AS x UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12);
         SELECT jsonb_extract('{\"a\":[1,2]}', '$.a'), jsonb_extract('{\"a\":[1,2]}', '$.a[0]'), jsonb_extract('{\"a\":[1,2]}', '$.a', '$.b');",
    );
}

#[test]
fn json_edits() {
    same_as_sqlite_with_messages(
        "SELECT json_insert('{\"a\":1}', '$.a', 2, '$.b', 3), json_replace('{\"a\":1}', '$.a', 2, '$.b', 3), json_set('{\"a\":1}', '$.a', 2, '$.b', 3);
         SELECT json_set('{}', '$.a.b.c', 1), json_set('[]', '$[0]', 1), json_set('[1]', '$[#]', 2), json_set('[1]', '$[5]', 2), json_insert('{}', '$.x[0]', 1);
         SELECT json_set('{\"a\":1}', '$', 5), json_replace('[1]', '$', json('{}')), json_insert('[1]', '$', 2);
         SELECT json_set('{\"a\":1}', '$.b', json('[1,2]')), json_set('{\"a\":1}', '$.b', '[1,2]'), json_set('{}', '$.\"x y\"', 1), json_set('{}', '$.\"x\\\\\"y\"', 1);
         SELECT json_set('{\"a\":1}', NULL, 2, '$.c', 3);
         SELECT json_set('{\"a\":1}', '$.b');
         SELECT json_insert('{\"a\":1}', 'a', 2);
         SELECT json_set('{\"a\":1}', '$.b', x'01');
         SELECT json_set('[1]', '$.b', 1), json_set('{}', '$[0]', 1);
         SELECT json_remove('[1,2,3]', '$[1]'), json_remove('{\"a\":1,\"b\":2}', '$.a'), json_remove('[1,2,3]', '$[#-1]', '$[0]'), json_remove('[1]', '$'), json_remove('[1]', NULL), json_remove('{\"a\":[1,{\"b\":2}]}', '$.a[1].b');
         SELECT json_remove('[1]', 'x');
         SELECT json_remove('[1]'), json_remove(NULL, '$[0]');
         SELECT jsonb_set('{\"a\":1}', '$.b', 2), jsonb_insert('[1]', '$[#]', 'x'), jsonb_replace('[1]', '$[0]', 2.5), jsonb_remove('[1,2]', '$[0]');
         SELECT json_patch('{\"a\":1,\"b\":{\"c\":2}}', '{\"b\":{\"c\":null,\"d\":4},\"e\":[1]}'), json_patch('[1]', '{\"a\":1}'), json_patch('{\"a\":1}', '[2]'), json_patch('{}', '{\"x\":{\"y\":{\"z\":1}}}'), json_patch(NULL, '{}'), json_patch('{}', NULL);
         SELECT json_patch('{', '{}');
         SELECT jsonb_patch('{\"a\":1}', '{\"a\":null,\"b\":2}');
         SELECT json_pretty('{\"a\":[1,2,{\"b\":{}}],\"c\":[]}'), json_pretty('[1,[2]]', '--'), json_pretty('5'), json_pretty(NULL), json_pretty('[1]', NULL);",
    );
}

#[test]
fn json5_input() {
    same_as_sqlite_with_messages(
        "SELECT json('{a:1, $b_2:''x'', \"c\":[1,2,],}'), json_valid('{a:1}'), json_valid('{a:1}', 2);
         SELECT json('[0x1F, -0X1a, +5, .5, 5., -.5e2, Infinity, -Infinity, +inf, NaN, QNaN]');
         SELECT json('// comment\n[1, /* c */ 2]'), json('[\"a\\\nb\", ''\\x41\\v\\0'', \"\\''\"]');
         SELECT json('\u{a0}[1]\u{2028}'), json('\u{feff}{\"a\":1}');
         SELECT json('{\\u0061:1}'), json('[\"tab\there\"]');
         SELECT jsonb('{a:1}') = jsonb('{\"a\":1}'), hex(jsonb('[0x1F, .5, 5., ''x'', {a:1}]'));
         SELECT json_extract('{a:0x10, b:''s\\x41''}', '$.a'), json_extract('{a:0x10, b:''s\\x41''}', '$.b');
         SELECT json('[1,2,,]');
         SELECT json('[01]');
         SELECT json('{1:2}');
         SELECT json_error_position('[1,2,,]'), json_error_position('{\"a\" 1}'), json_error_position('[01]'), json_error_position('\"\\q\"');",
    );
}

#[test]
fn json_aggregates() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(g, k, v);
         INSERT INTO t VALUES (1, 'a', 1), (1, 'b', 'two'), (2, 'c', NULL), (2, 'd', 2.5), (3, NULL, 1);
         SELECT json_group_array(v), json_group_object(k, v) FROM t WHERE g < 3;
         SELECT g, json_group_array(v), json_group_object(k, v) FROM t GROUP BY g ORDER BY g;
         SELECT g, json_group_array(json_object('k', k, 'v', v)) FROM t GROUP BY g ORDER BY g;
         SELECT json_group_array(json_array(v)), json_group_array(json(json_array(k))) FROM t;
         SELECT json_group_array(v), json_group_object(k, v), jsonb_group_array(v), jsonb_group_object(k, v) FROM t WHERE 0;
         SELECT hex(jsonb_group_array(v)), hex(jsonb_group_object(k, v)) FROM t WHERE g < 3;
         SELECT json_array(json_group_array(v)) FROM t;
         SELECT json_group_array(x'01') FROM t;
         SELECT json_group_object(k, v) FROM t;
         SELECT json_group_array(DISTINCT g) FROM t;
         SELECT g, json_group_array(json_object('v', v)), json_group_array(json_array(k) -> '$'), json_group_object(k, json_extract(json_array(v, json_array(v)), '$[1]')) FROM t GROUP BY g ORDER BY g;
         SELECT g, json_group_array(CASE WHEN v IS NULL THEN json('[0]') ELSE 'x' END), hex(jsonb_group_array(json_array(v))) FROM t GROUP BY g ORDER BY g;
         CREATE TABLE d(id INTEGER PRIMARY KEY, j);
         INSERT INTO d VALUES (1, '[[1],{\"a\":2},\"s\"]'), (2, '[3,[4]]');
         SELECT d.id, json_group_array(e.value), json_group_object(e.key, e.value) FROM d, json_each(d.j) e GROUP BY d.id ORDER BY d.id;",
    );
}

#[test]
fn jsonb_blobs() {
    same_as_sqlite_with_messages(
        "SELECT json(x'0b'), json(x'1b03'), json(x'00'), json(x'13'), json(x'2b1331');
         SELECT json(x'1c');
         SELECT json(x'cb011331');
         SELECT json(x'1c13');
         SELECT json(x'2c1331');
         SELECT json(x'ff');
         SELECT json(x'5b');
         SELECT json_extract(x'3c17611331', '$.a'), json_type(x'3c17611331', '$.a'), json_array_length(x'2b1331');
         SELECT json_valid(x'3c17611331', 8), json_valid(x'3c17611332', 8), json_error_position(x'3c17611332'), json_error_position(x'3c13611331');
         SELECT jsonb(x'3c17611331'), jsonb('[1]') = x'1b13' ;
         SELECT json_set(x'3c17611331', '$.a', 5), jsonb_set(x'3c17611331', '$.a', 5);
         SELECT json_array(x'3c17611331');
         SELECT json_insert(x'1b13', '$[#]', jsonb('{\"q\":[]}'));
         SELECT json(x'1a4142'), json(x'3a222f'), json(x'3a41425c'), json(x'2d31'), json(x'4441784b'), json(x'3631652b');",
    );
}

#[test]
fn json_in_tables_and_expressions() {
    same_as_sqlite_with_messages(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT, bin BLOB);
         INSERT INTO docs(body) VALUES ('{\"name\":\"ann\",\"tags\":[\"x\",\"y\"],\"n\":3}'), ('{\"name\":\"bob\",\"tags\":[],\"n\":1.5}'), ('[]');
         UPDATE docs SET bin = jsonb(body);
         SELECT id, body ->> '$.name', bin ->> '$.name', json_array_length(body, '$.tags'), typeof(bin) FROM docs ORDER BY id;
         SELECT id FROM docs WHERE body ->> 'n' > 2;
         SELECT body ->> 'name' AS nm, count(*) FROM docs GROUP BY nm ORDER BY nm;
         UPDATE docs SET body = json_set(body, '$.n', body ->> '$.n' + 1) WHERE json_type(body) = 'object';
         SELECT body FROM docs ORDER BY id;
         SELECT json(bin) = json(body) FROM docs ORDER BY id;
         SELECT json_group_array(body -> '$.tags') FROM docs WHERE json_valid(body);
         SELECT * FROM docs WHERE json_extract(body, '$.name') IN ('ann', 'zed');",
    );
}

#[test]
fn json_each_and_json_tree() {
    same_as_sqlite_with_messages(
        "SELECT * FROM json_each('[1,[2,3],{\"a\":4},\"s\",null,true,1.5]');
         SELECT key, value, type, atom, id, parent, fullkey, path, json, root FROM json_tree('{\"a\":[1,{\"b\":2}],\"c d\":null,\"\":{}}');
         SELECT key, value, fullkey, path, root FROM json_each('{\"x\":{\"y\":[5,6]}}', '$.x.y');
         SELECT key, value, fullkey, path FROM json_tree('{\"x\":{\"y\":[5,{\"z\":6}]}}', '$.x.y');
         SELECT key, value, fullkey, path FROM json_tree('{\"x\":{\"y\":[5,{\"z\":6}]}}', '$.x');
         SELECT key, value, fullkey, path FROM json_tree('[[1,[2]],3]', '$[0][1]');
         SELECT * FROM json_each('5'), json_each('\"x\"') AS b;
         SELECT * FROM json_each('[1]', '$.nope');
         SELECT rowid, key FROM json_tree('[1,[2,{\"a\":3}]]', '$[1]');
         SELECT j.rowid, j.oid, j._rowid_ FROM json_each('{\"a\":1,\"b\":2}') AS j;
         SELECT * FROM json_each(NULL);
         SELECT * FROM json_each('[1]', NULL);
         SELECT * FROM json_each('[1', '$');
         SELECT * FROM json_each('[1]', 'x');
         SELECT * FROM json_each('{}'), json_tree('[]');
         SELECT * FROM json_each(jsonb('{\"a\":[1,2]}'));
         SELECT * FROM json_tree(jsonb('{\"a\":[1,2]}'), '$.a');
         SELECT * FROM json_each('[1]', '$', 3);
         SELECT * FROM no_such_tvf(1);
         CREATE TABLE t(id INTEGER PRIMARY KEY, j, k, b);
         CREATE INDEX t_k ON t(k);
         INSERT INTO t VALUES (1, '[10,20]', 1, 'x'), (2, '{\"k\":\"v\",\"n\":[1]}', 2, 'y'), (3, NULL, 3, NULL), (4, '7', 4, 'z');
         SELECT t.id, e.key, e.value FROM t, json_each(json_array(t.k, t.b)) AS e WHERE t.k BETWEEN 2 AND 4 ORDER BY t.rowid, e.id;
         SELECT t.id, e.key, e.value, e.type FROM t, json_each(t.j) AS e ORDER BY t.id, e.id;
         SELECT t.id, e.fullkey FROM t JOIN json_tree(t.j) e ORDER BY t.id, e.id;
         SELECT t.id, count(e.key) FROM t LEFT JOIN json_each(t.j) e GROUP BY t.id ORDER BY t.id;
         SELECT t.id FROM t WHERE EXISTS (SELECT 1 FROM json_each(t.j) WHERE value = 20);
         SELECT json_group_array(value), json_group_object(key, value) FROM json_each('[[1],{\"a\":2},3,\"x\"]');
         SELECT json_array(value), value ->> '$[0]', subtype(value) FROM json_each('[[1],{\"a\":2},3,\"x\"]');
         SELECT e.value FROM json_each('[3,1,2]') e ORDER BY e.value DESC;
         SELECT sum(value) FROM json_each('[1,2,3.5]');
         SELECT key FROM json_each('{\"b\":1,\"a\":2}') WHERE key > 'a';
         SELECT x.value, y.value FROM json_each('[1,2]') x, json_each('[\"a\",\"b\"]') y ORDER BY 1, 2;
         SELECT a.key, b.value FROM json_each('{\"p\":[1,2],\"q\":[3]}') a, json_each(a.value) b;",
    );
}

#[test]
fn hostile_input() {
    let deep_ok = "[".repeat(999) + &"]".repeat(999);
    let deep_bad = "[".repeat(1001) + &"]".repeat(1001);
    let deep_obj = "{\"a\":".repeat(1200) + "1" + &"}".repeat(1200);
    let long_path = "$".to_string() + &".a".repeat(3000);
    let script = format!(
        "SELECT length(json('{deep_ok}'));
         SELECT json('{deep_bad}');
         SELECT json_valid('{deep_bad}'), json_error_position('{deep_bad}');
         SELECT json('{deep_obj}');
         SELECT json_extract('{{}}', '{long_path}');
         SELECT json_array_length(json_set('[]', '$[0]', 1e999999)), json_array(1e999999, -1e999999);
         SELECT json('[123456789012345678901234567890, 1e99999, -1e-99999]');
         SELECT json_extract('[123456789012345678901234567890]', '$[0]');
         SELECT json_valid(x'e3000000ff'), json(x'f300000000000000ff');
         SELECT json(x'f30000000100000000');"
    );
    same_as_sqlite_with_messages(&script);
    // A hand-made JSONB nested far deeper than any text input can be: an error (or
    // SQLite's answer), never a stack overflow.
    let ours = strata::Connection::open_in_memory().unwrap();
    let mut blob = Vec::new();
    let depth = 200_000usize;
    // Innermost first: each level wraps the previous one in an array header with a
    // 4-byte size.
    let mut inner: Vec<u8> = vec![0x0b];
    for _ in 0..depth / 1000 {
        let mut b = Vec::with_capacity(inner.len() * 1 + 5);
        b.push(0xeb);
        b.extend_from_slice(&(inner.len() as u32).to_be_bytes());
        b.extend_from_slice(&inner);
        inner = b;
    }
    blob.extend_from_slice(&inner);
    let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
    let _ = strata_rows(&ours, &format!("SELECT json(x'{hex}')"));
    let _ = strata_rows(&ours, &format!("SELECT json_pretty(x'{hex}')"));
    let _ = strata_rows(&ours, &format!("SELECT json_valid(x'{hex}', 8)"));
}

/// SplitMix64: a small seeded generator (no external crate needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const KEYS: &[&str] = &["a", "b", "c", "a b", "é", "x1", "$k", "_"];

fn gen_number(r: &mut Rng) -> String {
    match r.below(14) {
        0 => r
            .pick(&[
                "0",
                "-0",
                "1",
                "-1",
                "9223372036854775807",
                "-9223372036854775808",
            ])
            .into(),
        1 => r
            .pick(&[
                "9223372036854775808",
                "-9223372036854775809",
                "123456789012345678901234",
            ])
            .into(),
        2 => format!("{}.{}", r.below(1000), r.below(1000)),
        3 => format!(
            "{}e{}{}",
            r.below(100),
            r.pick(&["", "+", "-"]),
            r.below(400)
        ),
        4 => format!("-{}.{}E{}", r.below(10), r.below(100), r.below(30)),
        5 => r
            .pick(&["0x1F", "-0x10", "0XaB", "0xFFFFFFFFFFFFFFFFFF"])
            .into(),
        6 => r.pick(&[".5", "5.", "-.5", "+7", "+.5e2", "5.e3"]).into(),
        7 => r
            .pick(&[
                "Infinity",
                "-Infinity",
                "inf",
                "NaN",
                "-nan",
                "QNaN",
                "+Infinity",
            ])
            .into(),
        8 => r
            .pick(&["1e999", "-1e999", "1e-999", "0.1", "1e20", "1.5e300"])
            .into(),
        _ => format!("{}", r.next() as i64 % 100000),
    }
}

fn gen_string(r: &mut Rng) -> String {
    let quote = if r.chance(10) { '\'' } else { '"' };
    let mut s = String::new();
    s.push(quote);
    for _ in 0..r.below(6) {
        let piece = r.pick(&[
            "a",
            "b",
            "é",
            "日本",
            "😀",
            " ",
            "\\n",
            "\\t",
            "\\\"",
            "\\\\",
            "\\/",
            "\\u0041",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\ud83d",
            "\\u0000",
            "\\x41",
            "\\v",
            "\\0",
            "\\'",
            "\\q",
            "\t",
            "\u{1}",
            "'",
            "\\\n",
            "\\\r\n",
            "\\u004",
        ]);
        s.push_str(piece);
    }
    if r.chance(3) {
        // Unescaped delimiter or missing end: malformed.
        s.push(quote);
        s.push('x');
    }
    s.push(quote);
    s
}

fn gen_ws(r: &mut Rng) -> &'static str {
    if r.chance(85) {
        ""
    } else {
        r.pick(&[
            " ", "\n", "\t ", "/* c */", "// c\n", "\u{a0}", "\u{feff}", "\u{b}",
        ])
    }
}

fn gen_value(r: &mut Rng, depth: u32) -> String {
    let pick = if depth > 4 { r.below(5) } else { r.below(9) };
    match pick {
        0 => gen_number(r),
        1 => gen_string(r),
        2 => r.pick(&["true", "false", "null"]).into(),
        3 => gen_number(r),
        4 => gen_string(r),
        5 | 6 => {
            let n = r.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| format!("{}{}{}", gen_ws(r), gen_value(r, depth + 1), gen_ws(r)))
                .collect();
            let trail = if n > 0 && r.chance(8) { "," } else { "" };
            format!("[{}{trail}]", items.join(","))
        }
        _ => {
            let n = r.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let k = r.pick(KEYS);
                    let key = match r.below(10) {
                        0 if !k.contains(' ') => k.to_string(),
                        1 => format!("'{k}'"),
                        2 => "\"\\u0061\"".into(),
                        _ => format!("\"{k}\""),
                    };
                    format!(
                        "{}{key}{}:{}",
                        gen_ws(r),
                        gen_ws(r),
                        gen_value(r, depth + 1)
                    )
                })
                .collect();
            let trail = if n > 0 && r.chance(8) { "," } else { "" };
            format!("{{{}{trail}}}", items.join(","))
        }
    }
}

/// A document, sometimes damaged (a character dropped, doubled or replaced).
fn gen_doc(r: &mut Rng) -> String {
    let mut d = format!("{}{}{}", gen_ws(r), gen_value(r, 0), gen_ws(r));
    if r.chance(12) && !d.is_empty() {
        let chars: Vec<char> = d.chars().collect();
        let i = r.below(chars.len());
        let mut out: String = chars[..i].iter().collect();
        match r.below(3) {
            0 => {}
            1 => {
                out.push(chars[i]);
                out.push(chars[i]);
            }
            _ => out.push(
                r.pick(&["}", "]", ",", ":", "\"", "x", "0"])
                    .chars()
                    .next()
                    .unwrap(),
            ),
        }
        out.extend(&chars[i + 1..]);
        d = out;
    }
    d
}

fn gen_path(r: &mut Rng) -> String {
    if r.chance(5) {
        return r
            .pick(&[
                "x", "$x", "$[", "$[1", "$.", "$.\"a", "$[#-x]", "$[#+1]", "$[-1]", "", "$..a",
                "$[1]x",
            ])
            .into();
    }
    let mut p = String::from("$");
    for _ in 0..r.below(4) {
        match r.below(6) {
            0 | 1 => {
                let k = r.pick(KEYS);
                if k.contains(' ') || r.chance(20) {
                    p.push_str(&format!(".\"{k}\""));
                } else {
                    p.push_str(&format!(".{k}"));
                }
            }
            2 | 3 => p.push_str(&format!("[{}]", r.below(4))),
            4 => p.push_str(&format!("[#-{}]", r.below(3))),
            _ => p.push_str("[#]"),
        }
    }
    p
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn gen_sql_value(r: &mut Rng) -> String {
    match r.below(10) {
        0 => "NULL".into(),
        1 => format!("{}", r.next() as i64 % 1000),
        2 => r.pick(&["1.5", "-0.0", "1e400", "0.1", "-2.25"]).into(),
        3 => lit(&gen_string(r)),
        4 => format!("json({})", lit(&gen_doc(r))),
        5 => format!("jsonb({})", lit(&gen_doc(r))),
        6 => format!("json_array({}, {})", r.below(9), lit("x")),
        7 => "x'00'".into(),
        _ => lit(&gen_doc(r)),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// Statements over one JSON argument `d` (an SQL expression).
fn statements_over(r: &mut Rng, d: &str, out: &mut Vec<String>) {
    let p = lit(&gen_path(r));
    let p2 = lit(&gen_path(r));
    let v = gen_sql_value(r);
    let d2 = lit(&gen_doc(r));
    let s = match r.below(27) {
        0 => format!("SELECT json({d}), hex(jsonb({d}))"),
        1 => format!("SELECT json_valid({d}), json_valid({d}, {}), json_error_position({d})", 1 + r.below(15)),
        2 => format!("SELECT json_type({d}), json_type({d}, {p})"),
        3 => format!("SELECT json_extract({d}, {p}), typeof(json_extract({d}, {p}))"),
        4 => format!("SELECT json_extract({d}, {p}, {p2})"),
        5 => format!("SELECT {d} -> {p}, {d} ->> {p}"),
        6 => format!("SELECT {d} -> {}, {d} ->> {}", lit(r.pick(KEYS)), r.below(3)),
        7 => format!("SELECT json_array_length({d}), json_array_length({d}, {p})"),
        8 => format!("SELECT json_set({d}, {p}, {v}), json_insert({d}, {p}, {v})"),
        9 => format!("SELECT json_replace({d}, {p}, {v}, {p2}, {v})"),
        10 => format!("SELECT json_remove({d}, {p}), json_remove({d}, {p}, {p2})"),
        11 => format!("SELECT json_patch({d}, {d2}), json_patch({d2}, {d})"),
        12 => format!("SELECT json_pretty({d}), json_pretty({d}, {})", r.pick(&["' '", "''", "'\t'", "NULL"])),
        13 => format!("SELECT json_quote({d}), json_array({d}, {v}), json_object('k', {d}, 'v', {v})"),
        14 => format!("SELECT hex(jsonb_set({d}, {p}, {v})), hex(jsonb_insert({d}, {p}, {v}))"),
        15 => format!("SELECT hex(jsonb_remove({d}, {p})), hex(jsonb_replace({d}, {p}, {v}))"),
        16 => format!("SELECT hex(jsonb_extract({d}, {p})), hex(jsonb_extract({d}, {p}, {p2}))"),
        17 => format!("SELECT hex(jsonb_patch({d}, {d2})), hex(jsonb_array({d}, {v}))"),
        18 => format!("SELECT hex(jsonb_object('a', {d}, 'b', {v}))"),
        19 => format!("SELECT json_array(json({d})), json_array(json_extract({d}, {p})), json_array({d} -> {p})"),
        20 => format!("SELECT subtype(json_extract({d}, {p})), subtype({d} -> {p}), subtype({d} ->> {p})"),
        21 => format!("SELECT json(jsonb({d})) = json({d}), json_valid(jsonb({d}), 8)"),
        22 => format!("SELECT json_group_array({d}), json_group_object('k', {d}), hex(jsonb_group_array({d})) FROM (SELECT 1 UNION ALL SELECT 2)"),
        23 => format!("SELECT key, value, type, atom, id, parent, fullkey, path, json, root FROM json_tree({d})"),
        24 => format!("SELECT key, value, type, atom, id, parent, fullkey, path, root FROM json_each({d}, {p})"),
        25 => format!("SELECT key, value, type, atom, id, parent, fullkey, path FROM json_tree({d}, {p})"),
        _ => format!("SELECT json_object({d}, 1)"),
    };
    out.push(s);
}

#[test]
fn randomised_against_sqlite() {
    let seed: u64 = std::env::var("STRATA_JSON_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0015);
    let n: usize = std::env::var("STRATA_JSON_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut r = Rng(seed);
    let ours = strata::Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let mut stmts = Vec::new();
    for _ in 0..n {
        let d = gen_doc(&mut r);
        if r.chance(15) {
            // Random bytes as JSONB: SQLite's own JSONB of a document, damaged, or
            // bytes from nowhere.
            let mut blob: Vec<u8> = theirs
                .query_row("SELECT jsonb(?1)", [&d], |row| row.get::<_, Vec<u8>>(0))
                .unwrap_or_else(|_| (0..r.below(12)).map(|_| r.next() as u8).collect());
            for _ in 0..r.below(3) {
                if blob.is_empty() {
                    break;
                }
                let i = r.below(blob.len());
                match r.below(3) {
                    0 => blob[i] = r.next() as u8,
                    1 => {
                        blob.remove(i);
                    }
                    _ => blob.insert(i, r.next() as u8),
                }
            }
            statements_over(&mut r, &format!("x'{}'", hex(&blob)), &mut stmts);
        } else {
            statements_over(&mut r, &lit(&d), &mut stmts);
        }
    }
    let (mut oks, mut errs) = (0usize, 0usize);
    for sql in &stmts {
        let a = strata_rows(&ours, sql);
        let b = sqlite_rows(&theirs, sql);
        match (&a, &b) {
            (Ok(x), Ok(y)) => {
                oks += 1;
                assert_eq!(x, y, "results differ (seed {seed:#x}) for: {sql}")
            }
            (Err(x), Err(y)) => {
                errs += 1;
                assert_eq!(x, y, "error messages differ (seed {seed:#x}) for: {sql}")
            }
            _ => panic!(
                "one engine failed (seed {seed:#x}) for: {sql}\n strata: {a:?}\n sqlite: {b:?}"
            ),
        }
    }
    // The generator must exercise both answers and errors, mostly answers.
    eprintln!("json randomised: {oks} answers, {errs} errors");
    assert!(
        oks > stmts.len() / 2 && errs > 0,
        "{oks} answers, {errs} errors"
    );
}
