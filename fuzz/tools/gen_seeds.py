#!/usr/bin/env python3
"""Regenerates the committed seed databases and WAL files under fuzz/seeds/ and fuzz/fixtures/.

Run from anywhere: `python3 fuzz/tools/gen_seeds.py`. Uses only Python's bundled sqlite3 (no
build step), so the fuzz crate itself never depends on SQLite. The outputs are committed;
rerunning changes their bytes (WAL salts are random), which is harmless.

Every database is in WAL mode (header bytes 18/19 = 2): Strata refuses rollback-journal files,
so a seed in that mode would only ever exercise the refusal.
"""
import os
import shutil
import sqlite3
import struct
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
SEEDS = os.path.join(FUZZ, "seeds")
FIXTURES = os.path.join(FUZZ, "fixtures")
LIMIT = 16 * 1024


def connect(path, page_size=None):
    conn = sqlite3.connect(path, isolation_level=None)
    if page_size:
        conn.execute(f"PRAGMA page_size={page_size}")
    conn.execute("PRAGMA journal_mode=WAL")
    # Keep every frame in the WAL until we say otherwise: the WAL seeds are captured while
    # the connection is still open, before SQLite's close-time checkpoint.
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def finish_db(conn, path, out):
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = open(path, "rb").read()
    assert data[18] == 2 and data[19] == 2, "not in WAL mode"
    assert len(data) <= LIMIT, f"{out}: {len(data)} bytes"
    with open(out, "wb") as f:
        f.write(data)
    print(f"{os.path.relpath(out, FUZZ)}: {len(data)} bytes")


def db_seeds(tmp):
    d = os.path.join(SEEDS, "db_file")
    # 1. 512-byte pages: a rowid table with an index, one row whose blob spills to an
    #    overflow chain, a view and a trigger (schema rows with rootpage 0).
    p = os.path.join(tmp, "a.db")
    c = connect(p, 512)
    c.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB, d REAL)")
    c.execute("CREATE INDEX t_b ON t(b)")
    c.execute("BEGIN")
    for i in range(24):
        c.execute("INSERT INTO t VALUES(?,?,?,?)", (i * 3 - 5, f"name{i:03}", bytes([i]) * (i % 7), i / 3))
    c.execute("INSERT INTO t VALUES(1000, 'overflow', ?, NULL)", (bytes(range(256)) * 6,))
    c.execute("INSERT INTO t VALUES(-9223372036854775808, NULL, x'', -0.0)")
    c.execute("COMMIT")
    c.execute("CREATE VIEW v AS SELECT a FROM t")
    c.execute("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END")
    finish_db(c, p, os.path.join(d, "ps512_table_index_overflow.db"))

    # 2. 1024-byte pages: a two-level table, a descending NOCASE composite index, a WITHOUT
    #    ROWID table (an index-format tree named as a table) and free pages from deletes.
    p = os.path.join(tmp, "b.db")
    c = connect(p, 1024)
    c.execute("CREATE TABLE u(id INTEGER PRIMARY KEY, k TEXT COLLATE NOCASE, n INTEGER)")
    c.execute("CREATE INDEX u_kn ON u(k DESC, n)")
    c.execute("CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID")
    c.execute("BEGIN")
    for i in range(60):
        c.execute("INSERT INTO u VALUES(?,?,?)", (i, ("Key%02d" % i) * 2, i * i - 100))
    for i in range(20):
        c.execute("INSERT INTO w VALUES(?,?)", (f"w{i:02}", i))
    c.execute("COMMIT")
    c.execute("DELETE FROM u WHERE id % 3 = 0")
    finish_db(c, p, os.path.join(d, "ps1024_twolevel_desc_withoutrowid_freelist.db"))

    # 3. 512-byte pages: an index on long text, deep enough for interior index pages (index
    #    interior cells carry entries of their own).
    p = os.path.join(tmp, "c.db")
    c = connect(p, 512)
    c.execute("CREATE TABLE s(x TEXT)")
    c.execute("CREATE INDEX s_x ON s(x)")
    c.execute("BEGIN")
    for i in range(40):
        c.execute("INSERT INTO s VALUES(?)", (f"{i:04}" + "-" * 40,))
    c.execute("COMMIT")
    finish_db(c, p, os.path.join(d, "ps512_deep_index.db"))

    # 4. The empty database SQLite writes in WAL mode (page 1 only).
    p = os.path.join(tmp, "d.db")
    c = connect(p, 512)
    c.execute("CREATE TABLE e(x)")
    c.execute("DROP TABLE e")
    finish_db(c, p, os.path.join(d, "ps512_empty_schema.db"))


def wal_checksum(data, s0, s1, big_endian):
    fmt = ">%dI" if big_endian else "<%dI"
    words = struct.unpack(fmt % (len(data) // 4), data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def to_big_endian_checksums(wal):
    """Re-encodes a little-endian-checksum WAL (magic 0x377f0682) with big-endian checksums
    (magic 0x377f0683), as SQLite on a big-endian machine would write it."""
    page_size = struct.unpack(">I", wal[8:12])[0]
    out = bytearray(wal)
    struct.pack_into(">I", out, 0, 0x377F0683)
    s = wal_checksum(bytes(out[:24]), 0, 0, True)
    struct.pack_into(">II", out, 24, *s)
    off = 32
    while off + 24 + page_size <= len(out):
        s = wal_checksum(bytes(out[off:off + 8]) + bytes(out[off + 24:off + 24 + page_size]), s[0], s[1], True)
        struct.pack_into(">II", out, off + 16, *s)
        off += 24 + page_size
    return bytes(out)


def wal_seeds(tmp):
    base = os.path.join(tmp, "base.db")
    c = connect(base, 1024)
    c.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB)")
    c.execute("CREATE INDEX t_b ON t(b)")
    c.execute("BEGIN")
    for i in range(10):
        c.execute("INSERT INTO t VALUES(?,?,?)", (i, f"row{i}", bytes([i]) * 10))
    c.execute("COMMIT")
    finish_db(c, base, os.path.join(FIXTURES, "wal_base.db"))

    def capture(name, work, transform=None):
        p = os.path.join(tmp, name + ".db")
        shutil.copy(base, p)
        conn = connect(p)
        work(conn)
        wal = open(p + "-wal", "rb").read()
        conn.close()
        if transform:
            wal = transform(wal)
        assert len(wal) <= LIMIT, f"{name}: {len(wal)} bytes"
        out = os.path.join(SEEDS, "wal_file", name + ".wal")
        with open(out, "wb") as f:
            f.write(wal)
        print(f"{os.path.relpath(out, FUZZ)}: {len(wal)} bytes")
        return wal

    def one_txn(conn):
        conn.execute("INSERT INTO t VALUES(100, 'hundred', x'00ff')")

    def several(conn):
        conn.execute("INSERT INTO t VALUES(200, 'big', ?)", (bytes(range(256)) * 5,))
        conn.execute("UPDATE t SET b = 'changed' WHERE a < 3")
        conn.execute("CREATE TABLE n(x)")
        conn.execute("INSERT INTO n VALUES(42)")
        conn.execute("DELETE FROM t WHERE a = 200")

    def restarted(conn):
        # Frames of the first generation, a checkpoint that lets the next writer restart the
        # log, then a shorter second generation: the tail keeps stale frames whose salts no
        # longer match the header.
        for i in range(4):
            conn.execute("INSERT INTO t VALUES(?, 'gen1', zeroblob(300))", (300 + i,))
        conn.execute("PRAGMA wal_checkpoint(RESTART)")
        conn.execute("UPDATE t SET b = 'gen2' WHERE a = 1")

    one = capture("one_txn", one_txn)
    many = capture("several_txns_overflow_newtable", several)
    restarted_wal = capture("restarted_stale_tail", restarted)
    frame = 24 + 1024
    # A torn tail: the last frame cut in half (recovery must stop at the previous commit).
    torn = many[: len(many) - frame // 2]
    with open(os.path.join(SEEDS, "wal_file", "torn_tail.wal"), "wb") as f:
        f.write(torn)
    with open(os.path.join(SEEDS, "wal_file", "one_txn_big_endian.wal"), "wb") as f:
        f.write(to_big_endian_checksums(one))
    # Fix-up mode copies (magic byte 3 + 2): the wal_file harness restores the magic and
    # recomputes every checksum, so mutations of these stay valid logs.
    for name, wal in (("fixup_several_txns_overflow_newtable", many), ("fixup_restarted_stale_tail", restarted_wal)):
        b = bytearray(wal)
        b[3] += 2
        with open(os.path.join(SEEDS, "wal_file", name + ".wal"), "wb") as f:
            f.write(bytes(b))
    with open(os.path.join(SEEDS, "wal_file", "empty.wal"), "wb") as f:
        f.write(b"")
    with open(os.path.join(SEEDS, "wal_file", "header_only.wal"), "wb") as f:
        f.write(one[:32])


def varint(n):
    """SQLite's big-endian varint (1..9 bytes; the ninth byte holds 8 bits)."""
    n &= (1 << 64) - 1
    if n > 0x00FFFFFFFFFFFFFF:
        out = [n & 0xFF]
        n >>= 8
        for _ in range(8):
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes(reversed(out))


def record(values):
    """Encodes a record as SQLite does (smallest integer serial type, 8/9 for 0/1)."""
    types, body = [], b""
    for v in values:
        if v is None:
            types.append(0)
        elif isinstance(v, bool) or isinstance(v, int):
            v = int(v)
            if v in (0, 1):
                types.append(8 + v)
                continue
            for st, size in ((1, 1), (2, 2), (3, 3), (4, 4), (5, 6), (6, 8)):
                if -(1 << (8 * size - 1)) <= v < (1 << (8 * size - 1)):
                    types.append(st)
                    body += (v & ((1 << (8 * size)) - 1)).to_bytes(size, "big")
                    break
        elif isinstance(v, float):
            types.append(7)
            body += struct.pack(">d", v)
        elif isinstance(v, str):
            b = v.encode()
            types.append(13 + 2 * len(b))
            body += b
        else:
            types.append(12 + 2 * len(v))
            body += bytes(v)
    hdr = b"".join(varint(t) for t in types)
    n = len(hdr) + 1
    if len(varint(n)) > 1:
        n = len(hdr) + len(varint(len(hdr) + 2))
    return varint(n) + hdr + body


def record_seeds():
    """record_decode inputs: [key-info byte][split u16 LE][record a][record b] (see the
    target's doc comment)."""
    d = os.path.join(SEEDS, "record_decode")
    os.makedirs(d, exist_ok=True)
    pairs = {
        "ints": ([1, 0, -1, 127, 128, -32769, 1 << 40, -(1 << 63)], [1, 0, -1, 127, 128, -32769, 1 << 40, (1 << 63) - 1]),
        "mixed": ([None, 2.5, "abc", b"\x00\x01", 7], [None, 2.5, "ABC", b"\x00", 7]),
        "real_vs_int": ([9007199254740993, -0.0, 1e308], [9007199254740992.0, 0, float("inf")]),
        "text_collations": (["a  ", "Zz\u00e9"], ["A", "zZ\u00c9"]),
        "prefix": ([1, 2], [1, 2, 3]),
        "empty": ([], []),
        "long_blob": ([b"x" * 300, 1], [b"x" * 299, 1]),
    }
    for i, (name, (a, b)) in enumerate(sorted(pairs.items())):
        ra, rb = record(a), record(b)
        key_info = (i * 37) & 0xFF
        data = bytes([key_info]) + struct.pack("<H", len(ra)) + ra + rb
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(data)
        print(f"seeds/record_decode/{name}.bin: {len(data)} bytes")


def btree_ops_seeds():
    """btree_ops inputs are decoded by `arbitrary` into operation lists; any bytes make a
    valid input, so the seeds are a few fixed pseudo-random byte strings long enough to
    decode into many operations (including commits, checkpoints and reopens)."""
    import random
    d = os.path.join(SEEDS, "btree_ops")
    os.makedirs(d, exist_ok=True)
    for n, size in ((1, 512), (2, 2048), (3, 4096)):
        rng = random.Random(n)
        data = bytes(rng.randrange(256) for _ in range(size))
        with open(os.path.join(d, f"random_{n}.bin"), "wb") as f:
            f.write(data)
        print(f"seeds/btree_ops/random_{n}.bin: {size} bytes")


def main():
    btree_ops_seeds()
    record_seeds()
    os.makedirs(FIXTURES, exist_ok=True)
    for t in ("db_file", "wal_file"):
        os.makedirs(os.path.join(SEEDS, t), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db_seeds(tmp)
        wal_seeds(tmp)


if __name__ == "__main__":
    main()
