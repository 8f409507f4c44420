package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// A migration moves the schema from version-1 to version. Each is applied once, in a
// transaction with its row in schema_migrations. One that has shipped is never edited:
// a change is a new version.
type migration struct {
	version int
	up      func(ctx context.Context, tx *sql.Tx, d dialect) error
}

// migrations lists every version, oldest first, numbered from 1 without gaps.
func migrations() []migration {
	return []migration{
		{1, createTables},
		{2, addNormalised},
	}
}

// latestVersion is the schema version this code reads and writes.
func latestVersion() int { return len(migrations()) }

// lockKey is the first half of the PostgreSQL advisory lock key taken while migrating
// ("apoi"); the second is the schema's, so that schemas migrate independently.
const lockKey = 0x61706f69

// migrate applies the migrations up to version upTo that db does not have yet. Processes
// that start together take turns: PostgreSQL through an advisory lock, SQLite through its
// write lock (transactions begin immediate, see sqliteParams). A database with versions
// this code does not know (a newer apiorint migrated it) is left as it is.
func migrate(ctx context.Context, db *sql.DB, d dialect, upTo int) error {
	for _, m := range migrations() {
		if m.version > upTo {
			break
		}
		if err := apply(ctx, db, d, m); err != nil {
			return fmt.Errorf("version %d: %w", m.version, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, d dialect, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d == postgres {
		// Held until the transaction ends: another process waits here, then finds the
		// version applied. Taken before the table is created, since concurrent CREATE
		// TABLE IF NOT EXISTS can fail in PostgreSQL.
		lock := fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext(coalesce(current_schema(), '')))", lockKey)
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	create := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		applied_at %s NOT NULL
	)`, d.timeType())
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return err
	}
	var applied int
	err = tx.QueryRowContext(ctx, d.rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&applied)
	if err != nil {
		return err
	}
	if applied > 0 {
		return tx.Commit()
	}
	if err := m.up(ctx, tx, d); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
		m.version, d.timeArg(time.Now()))
	if err != nil {
		return err
	}
	return tx.Commit()
}

// timeType is the type of a time column (see timeArg).
func (d dialect) timeType() string {
	if d == postgres {
		return "timestamptz"
	}
	return "integer" // Unix microseconds, UTC
}

// execAll runs each statement in turn: pgx runs one statement per call.
func execAll(ctx context.Context, tx *sql.Tx, statements ...string) error {
	for _, s := range statements {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Version 1: the records.
func createTables(ctx context.Context, tx *sql.Tx, d dialect) error {
	return execAll(ctx, tx,
		fmt.Sprintf(`CREATE TABLE questions (
			id text PRIMARY KEY,
			at %s NOT NULL,
			surface text NOT NULL,
			team text NOT NULL,
			channel text NOT NULL,
			user_id text NOT NULL,
			text text NOT NULL,
			outcome text NOT NULL,
			section text NOT NULL,
			score double precision NOT NULL,
			parent text NOT NULL
		)`, d.timeType()),
		fmt.Sprintf(`CREATE TABLE votes (
			answer_id text NOT NULL,
			user_id text NOT NULL,
			value integer NOT NULL,
			at %s NOT NULL,
			question text NOT NULL,
			section text NOT NULL,
			outcome text NOT NULL,
			PRIMARY KEY (answer_id, user_id)
		)`, d.timeType()),
	)
}

// Version 2: the normalised text the gap report groups by, computed in Go (Normalize) for
// the records already there, and indexes for the gap report and for pruning.
func addNormalised(ctx context.Context, tx *sql.Tx, d dialect) error {
	err := execAll(ctx, tx,
		`ALTER TABLE questions ADD COLUMN norm text NOT NULL DEFAULT ''`,
		`ALTER TABLE votes ADD COLUMN question_norm text NOT NULL DEFAULT ''`,
	)
	if err != nil {
		return err
	}
	if err := backfill(ctx, tx, d, "questions", []string{"id"}, "text", "norm"); err != nil {
		return err
	}
	if err := backfill(ctx, tx, d, "votes", []string{"answer_id", "user_id"}, "question", "question_norm"); err != nil {
		return err
	}
	return execAll(ctx, tx,
		`CREATE INDEX questions_at ON questions (at)`,
		`CREATE INDEX questions_outcome_at ON questions (outcome, at)`,
		`CREATE INDEX votes_at ON votes (at)`,
	)
}

// backfill sets column norm of table to Normalize(column text), a page of rows at a time
// in the order of the key columns, so that a large table is not read into memory at once.
func backfill(ctx context.Context, tx *sql.Tx, d dialect, table string, keys []string, text, norm string) error {
	const page = 500
	keyList := strings.Join(keys, ", ")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
	sel := d.rebind(fmt.Sprintf("SELECT %s, %s FROM %s WHERE (%s) > (%s) ORDER BY %s LIMIT %d",
		keyList, text, table, keyList, marks, keyList, page))
	upd := d.rebind(fmt.Sprintf("UPDATE %s SET %s = ? WHERE (%s) = (%s)", table, norm, keyList, marks))

	type row struct {
		key  []any
		norm string
	}
	after := make([]any, len(keys))
	for i := range after {
		after[i] = ""
	}
	for {
		var todo []row
		n := 0
		err := func() error {
			rows, err := tx.QueryContext(ctx, sel, after...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				key := make([]string, len(keys))
				dest := make([]any, 0, len(keys)+1)
				for i := range key {
					dest = append(dest, &key[i])
				}
				var t string
				if err := rows.Scan(append(dest, &t)...); err != nil {
					return err
				}
				n++
				for i, k := range key {
					after[i] = k
				}
				if nt := clean(Normalize(t)); nt != "" {
					todo = append(todo, row{append([]any(nil), after...), nt})
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		// Updated after reading: a connection reads a result to its end before the next
		// statement.
		for _, r := range todo {
			if _, err := tx.ExecContext(ctx, upd, append([]any{r.norm}, r.key...)...); err != nil {
				return fmt.Errorf("update %s: %w", table, err)
			}
		}
		if n < page {
			return nil
		}
	}
}
