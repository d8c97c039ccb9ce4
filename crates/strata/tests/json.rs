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
         SELECT json_group_array(DISTINCT g) FROM t;",
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
