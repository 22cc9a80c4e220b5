package benchmark

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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

// sqliteMaxBatch bounds the appends one SQLite transaction carries, as a
// careful engineer would bound a batch so that one slow group does not
// hold every writer.
const sqliteMaxBatch = 1024

// eventsTable is the event table both SQL peers use (SQLite's dialect;
// pgSchema is the same table in PostgreSQL's): a dense position, the
// stream and its revision (unique together, which is what makes an
// optimistic append safe), the event id (unique), and the envelope.
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

// sqliteInsert appends one event if the stream's last revision is the
// expected one (-1: no stream), in one statement: the (stream, revision)
// index answers the MAX, and no row is inserted when the expectation does
// not hold.
const sqliteInsert = `INSERT INTO events (stream, revision, id, type, schema, data, metadata, recorded_at)
	SELECT ?1, ?2 + 1, ?3, ?4, ?5, ?6, ?7, ?8
	WHERE COALESCE((SELECT MAX(revision) FROM events WHERE stream = ?1), -1) = ?2`

// SQLite is the SQLite peer, run the way a careful engineer runs it for
// many concurrent writers: modernc.org/sqlite (pure Go, database/sql) in
// WAL mode with synchronous=FULL, and group commit. Writers hand their
// appends to one committer goroutine, which takes whatever is queued (up
// to sqliteMaxBatch), runs them in one BEGIN IMMEDIATE transaction (each
// append one INSERT … WHERE its stream is at the expected revision,
// refused on its own when not) and commits them with one WAL sync, then
// acknowledges every writer of the batch. SQLite admits one writer at a
// time, so batching in the application is how it gets group commit.
func SQLite() Engine {
	return Engine{Name: "sqlite", Open: openSQLite}
}

type sqliteAppender struct {
	db     *sql.DB
	insert *sql.Stmt
	ws     []sqlWriter
	queue  chan int // writer numbers
	exit   chan struct{}
}

// sqlWriter is what each writer of a SQL engine keeps: its stream's last
// revision (-1 for none), its pending append and where its answer goes.
type sqlWriter struct {
	stream string
	rev    int64
	ev     eventstore.EventData
	meta   []byte
	at     string
	done   chan error
}

func newSQLWriters(n int) []sqlWriter {
	ws := make([]sqlWriter, n)
	for i := range ws {
		ws[i] = sqlWriter{stream: StreamID(i), rev: -1, done: make(chan error, 1)}
	}
	return ws
}

// prepare fills in writer w's next event.
func (w *sqlWriter) prepare() error {
	w.ev = NewEvent()
	meta, err := json.Marshal(w.ev.Metadata)
	if err != nil {
		return err
	}
	w.meta, w.at = meta, eventstore.FormatTime(time.Now())
	return nil
}

func openSQLite(ctx context.Context, dir string, n int) (Appender, error) {
	db, err := OpenSQLite(filepath.Join(dir, SQLiteFile))
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create table: %w", err)
	}
	insert, err := db.PrepareContext(ctx, sqliteInsert)
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &sqliteAppender{db: db, insert: insert, ws: newSQLWriters(n), queue: make(chan int, n), exit: make(chan struct{})}
	go a.commit()
	return a, nil
}

// OpenSQLite opens (creating if needed) the SQLite database at path with
// the settings the SQLite engine uses: one connection, which the engine's
// committer owns.
func OpenSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+sqliteDSN)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}

// Append hands writer w's event to the committer and waits for the
// outcome of its batch. Once queued, an append is carried out even if ctx
// ends.
func (a *sqliteAppender) Append(ctx context.Context, w int) error {
	if err := a.ws[w].prepare(); err != nil {
		return err
	}
	select {
	case a.queue <- w:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-a.ws[w].done
}

// commit is the committer: one transaction, and so one WAL sync, per
// batch of whatever was queued.
func (a *sqliteAppender) commit() {
	defer close(a.exit)
	batch := make([]int, 0, sqliteMaxBatch)
	for w := range a.queue {
		batch = append(batch[:0], w)
	gather:
		for len(batch) < sqliteMaxBatch {
			select {
			case w, ok := <-a.queue:
				if !ok {
					break gather
				}
				batch = append(batch, w)
			default:
				break gather
			}
		}
		errs, err := a.runBatch(batch)
		for i, w := range batch {
			e := err
			if e == nil {
				e = errs[i]
			}
			if e == nil {
				a.ws[w].rev++
			}
			a.ws[w].done <- e
		}
	}
}

// runBatch runs the batch's appends in one transaction. errs[i] is the
// refusal of the i-th append (its stream was not at the expected
// revision); err fails the whole batch.
func (a *sqliteAppender) runBatch(batch []int) (errs []error, err error) {
	ctx := context.Background()
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	stmt := tx.StmtContext(ctx, a.insert)
	errs = make([]error, len(batch))
	for i, w := range batch {
		wr := &a.ws[w]
		res, err := stmt.ExecContext(ctx, wr.stream, wr.rev, wr.ev.ID[:], wr.ev.Type, wr.ev.Schema, []byte(wr.ev.Data), wr.meta, wr.at)
		if err != nil {
			return nil, fmt.Errorf("insert into %s: %w", wr.stream, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n != 1 {
			var actual int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(revision), -1) FROM events WHERE stream = ?`, wr.stream).Scan(&actual); err != nil {
				return nil, fmt.Errorf("read revision of %s: %w", wr.stream, err)
			}
			errs[i] = wrongRevision(wr.stream, wr.rev, actual)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return errs, nil
}

// wrongRevision is the refusal of an append to stream that expected its
// last revision to be rev (-1: no stream) where it is actual.
func wrongRevision(stream string, rev, actual int64) error {
	expected := eventstore.NoStream()
	if rev >= 0 {
		expected = eventstore.Exact(uint64(rev))
	}
	return &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
}

// Close stops the committer and closes the database. Requires that no
// Append is in flight.
func (a *sqliteAppender) Close() error {
	close(a.queue)
	<-a.exit
	return errors.Join(a.insert.Close(), a.db.Close())
}
