package benchmark

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLiteFile names the database the SQLite engine writes in its directory.
const SQLiteFile = "events.db"

// sqliteDSN opens the database in WAL mode with synchronous=FULL (every
// commit is fsync'ed before it returns), starts write transactions with
// BEGIN IMMEDIATE so a writer takes the lock up front instead of failing
// to upgrade a read lock, and waits up to 10s for a busy lock.
const sqliteDSN = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// sqliteConns is the connection pool size. SQLite lets one writer in at a
// time, and a connection waiting for the write lock sleeps in its busy
// handler (in steps of milliseconds); with one connection the writers queue
// in database/sql instead and are handed the connection the moment it is
// free, which is the fastest way to share a single write lock.
const sqliteConns = 1

const sqliteSchema = `CREATE TABLE IF NOT EXISTS events (
	position    INTEGER PRIMARY KEY,
	stream      TEXT    NOT NULL,
	revision    INTEGER NOT NULL,
	id          BLOB    NOT NULL UNIQUE,
	type        TEXT    NOT NULL,
	schema      INTEGER NOT NULL,
	data        BLOB    NOT NULL,
	metadata    BLOB    NOT NULL,
	recorded_at TEXT    NOT NULL,
	UNIQUE (stream, revision)
)`

// SQLite is the peer: an events table in SQLite (modernc.org/sqlite, pure
// Go, through database/sql) in WAL mode with synchronous=FULL. Each append
// is one transaction that reads the stream's last revision, checks it
// against the expected one (optimistic concurrency, as Concord's commands
// do) and inserts the event.
func SQLite() Engine {
	return Engine{Name: "sqlite", Open: openSQLite}
}

type sqliteAppender struct {
	db     *sql.DB
	last   *sql.Stmt
	insert *sql.Stmt
	revs   []int64 // per writer: its stream's last revision, -1 for none
}

func openSQLite(ctx context.Context, dir string, n int) (Appender, error) {
	db, err := OpenSQLite(filepath.Join(dir, SQLiteFile))
	if err != nil {
		return nil, err
	}
	a := &sqliteAppender{db: db, revs: make([]int64, n)}
	for i := range a.revs {
		a.revs[i] = -1
	}
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table: %w", err)
	}
	if a.last, err = db.PrepareContext(ctx, `SELECT COALESCE(MAX(revision), -1) FROM events WHERE stream = ?`); err != nil {
		db.Close()
		return nil, err
	}
	if a.insert, err = db.PrepareContext(ctx, `INSERT INTO events (stream, revision, id, type, schema, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// OpenSQLite opens (creating if needed) the SQLite database at path with
// the settings the SQLite engine uses.
func OpenSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+sqliteDSN)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(sqliteConns)
	db.SetMaxIdleConns(sqliteConns)
	return db, nil
}

func (a *sqliteAppender) Append(ctx context.Context, w int) (err error) {
	stream := StreamID(w)
	e := NewEvent()
	meta, err := json.Marshal(e.Metadata)
	if err != nil {
		return err
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var last int64
	if err := tx.StmtContext(ctx, a.last).QueryRowContext(ctx, stream).Scan(&last); err != nil {
		return fmt.Errorf("read revision of %s: %w", stream, err)
	}
	expected := eventstore.Exact(uint64(a.revs[w]))
	if a.revs[w] < 0 {
		expected = eventstore.NoStream()
	}
	if !expected.Matches(last) {
		return &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: last}
	}
	if _, err := tx.StmtContext(ctx, a.insert).ExecContext(ctx,
		stream, last+1, e.ID[:], e.Type, e.Schema, []byte(e.Data), meta, eventstore.FormatTime(time.Now())); err != nil {
		return fmt.Errorf("insert into %s: %w", stream, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	a.revs[w] = last + 1
	return nil
}

func (a *sqliteAppender) Close() error { return a.db.Close() }
