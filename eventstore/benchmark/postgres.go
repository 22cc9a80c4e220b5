package benchmark

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresTable is the table the PostgreSQL engine creates for a run. A
// run drops the table a previous run left and leaves its own, for
// inspection, until the next.
const PostgresTable = "concord_bench_events"

// PostgresMaxConns bounds the PostgreSQL engine's connections: one per
// writer up to this many (the server's max_connections must allow it;
// docs/benchmarks.md starts a private server with 300).
const PostgresMaxConns = 256

// The event table of the SQLite peer in PostgreSQL's dialect. Identity
// values are not gap-free (a refused insert consumes one), which a
// benchmark does not mind.
const pgSchema = `CREATE TABLE ` + PostgresTable + ` (
	position    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stream      TEXT    NOT NULL,
	revision    BIGINT  NOT NULL,
	id          BYTEA   NOT NULL UNIQUE,
	type        TEXT    NOT NULL,
	schema      INTEGER NOT NULL,
	data        BYTEA   NOT NULL,
	metadata    BYTEA   NOT NULL,
	recorded_at TEXT    NOT NULL,
	UNIQUE (stream, revision)
)`

// pgInsert is sqliteInsert in PostgreSQL's dialect. Two appends racing
// for the same revision both see the old MAX; the unique index then
// refuses the second (SQLSTATE 23505).
const pgInsert = `INSERT INTO ` + PostgresTable + ` (stream, revision, id, type, schema, data, metadata, recorded_at)
	SELECT $1, $2::bigint + 1, $3, $4, $5, $6, $7, $8
	WHERE COALESCE((SELECT MAX(revision) FROM ` + PostgresTable + ` WHERE stream = $1), -1) = $2::bigint`

// Postgres is the PostgreSQL peer at url (a libpq URL or key=value
// string): the same event table as the SQLite peer, one connection per
// writer (up to PostgresMaxConns) and each append one autocommitted
// INSERT … WHERE its stream is at the expected revision. PostgreSQL does
// group commit itself: a backend that finds its commit record already
// flushed by another backend's WAL sync returns without syncing again, so
// concurrent connections share fsyncs. Open refuses a server that does
// not sync commits (fsync or synchronous_commit off), which would make
// the comparison meaningless.
func Postgres(url string) Engine {
	return Engine{Name: "postgres", Open: func(ctx context.Context, _ string, n int) (Appender, error) {
		return openPostgres(ctx, url, n)
	}}
}

type pgAppender struct {
	pool *pgxpool.Pool
	ws   []sqlWriter
}

func openPostgres(ctx context.Context, url string, n int) (Appender, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = int32(min(n, PostgresMaxConns))
	cfg.MinConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	fail := func(err error) (Appender, error) {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	for _, setting := range []string{"fsync", "synchronous_commit"} {
		var v string
		if err := pool.QueryRow(ctx, "SHOW "+setting).Scan(&v); err != nil {
			return fail(err)
		}
		if v == "off" {
			return fail(fmt.Errorf("the server runs with %s=off: its commits are not durable, so it is no peer", setting))
		}
	}
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+PostgresTable); err != nil {
		return fail(err)
	}
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		return fail(fmt.Errorf("create table: %w", err))
	}
	return &pgAppender{pool: pool, ws: newSQLWriters(n)}, nil
}

// Append inserts writer w's next event in its own transaction.
func (a *pgAppender) Append(ctx context.Context, w int) error {
	wr := &a.ws[w]
	if err := wr.prepare(); err != nil {
		return err
	}
	tag, err := a.pool.Exec(ctx, pgInsert, wr.stream, wr.rev, wr.ev.ID[:], wr.ev.Type, int32(wr.ev.Schema), []byte(wr.ev.Data), wr.meta, wr.at)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" || err == nil && tag.RowsAffected() != 1 {
		var actual int64
		if err := a.pool.QueryRow(ctx, `SELECT COALESCE(MAX(revision), -1) FROM `+PostgresTable+` WHERE stream = $1`, wr.stream).Scan(&actual); err != nil {
			return fmt.Errorf("read revision of %s: %w", wr.stream, err)
		}
		return wrongRevision(wr.stream, wr.rev, actual)
	}
	if err != nil {
		return fmt.Errorf("insert into %s: %w", wr.stream, err)
	}
	wr.rev++
	return nil
}

// Close closes the connections, leaving the table.
func (a *pgAppender) Close() error {
	a.pool.Close()
	return nil
}

// PostgresCount returns how many events the table at url holds and how
// many streams have gaps in their revisions (for tests).
func PostgresCount(ctx context.Context, url string) (events, gapped int64, err error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return 0, 0, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, 0, err
	}
	defer pool.Close()
	err = pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM `+PostgresTable+`),
		(SELECT COUNT(*) FROM (SELECT COUNT(*) AS n, MAX(revision) AS top FROM `+PostgresTable+` GROUP BY stream) s WHERE n - 1 <> top)`).Scan(&events, &gapped)
	return events, gapped, err
}
