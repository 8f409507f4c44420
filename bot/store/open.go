package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DefaultURL is the store used when DATABASE_URL is empty: a SQLite file in the working
// directory.
const DefaultURL = "sqlite:apiorint.db"

const (
	// sqliteParams are set on every SQLite connection: WAL so that the gap report can read
	// while the bot writes; a busy timeout so that a second process (apiorint gaps, another
	// bot) waits for the lock instead of failing; and write transactions that take the
	// lock when they begin, since a transaction that upgrades from read to write fails at
	// once with SQLITE_BUSY, whatever the timeout. synchronous(NORMAL): in WAL mode a commit
	// survives the process being killed without waiting for the disk, which made recording
	// cost a fifth of the bot's throughput under load; only a power cut can lose the last
	// commits.
	sqliteParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"

	// connectTimeout bounds connecting to PostgreSQL when the URL does not say
	// (connect_timeout): a server that does not answer must not hold up a start or a write
	// for the operating system's minutes.
	connectTimeout = 5 * time.Second
)

// Open opens the store that rawURL (a DATABASE_URL) names, creating it if needed, and
// applies the schema's pending migrations. It accepts:
//
//	""                         sqlite:apiorint.db, a file in the working directory
//	"sqlite:PATH"              the SQLite file PATH, created if missing (its directory must exist)
//	"sqlite://PATH"            the same: "sqlite:///var/lib/apiorint.db" is an absolute path
//	"postgres://…"             PostgreSQL, through pgx; "postgresql://…" too. Query parameters
//	                           are libpq's (sslmode, connect_timeout…); any other one is set on
//	                           the session, e.g. search_path=apiorint
//	"off"                      nothing: Open returns ErrOff
//
// A SQLite PATH cannot hold '?'. When the PostgreSQL server cannot be reached, Open fails
// within a few seconds with an error that wraps ErrUnavailable; use OpenLazy to start
// without it. Errors name DATABASE_URL and never show a password.
func Open(ctx context.Context, rawURL string) (Store, error) {
	s, err := open(rawURL)
	if err != nil {
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// OpenLazy is Open for a database that may be down when the bot starts: it checks rawURL
// but does not connect to PostgreSQL. The Store connects, and applies the pending
// migrations, on its first use that finds the server up; until then every call fails with
// an error that wraps ErrUnavailable, and a Recorder keeps the records to write them
// then. A SQLite file is local, so for it OpenLazy is Open.
func OpenLazy(ctx context.Context, rawURL string) (Store, error) {
	s, err := open(rawURL)
	if err != nil {
		return nil, err
	}
	if s.dialect == sqlite {
		if err := s.ready(ctx); err != nil {
			s.db.Close()
			return nil, err
		}
	}
	return s, nil
}

// SQLitePath returns the file a sqlite: DATABASE_URL names, and false for any other URL.
func SQLitePath(rawURL string) (string, bool) {
	const scheme = "sqlite:"
	rawURL = strings.TrimSpace(rawURL)
	if len(rawURL) < len(scheme) || !strings.EqualFold(rawURL[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimPrefix(rawURL[len(scheme):], "//"), true
}

// open checks rawURL and prepares a connection pool without connecting.
func open(rawURL string) (*sqlStore, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		rawURL = DefaultURL
	}
	if rawURL == "off" {
		return nil, ErrOff
	}
	const expected = "expected sqlite:PATH, postgres://USER@HOST/DB or off"
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the URL, password and all: do not pass it on.
		return nil, errors.New("DATABASE_URL is not a valid URL: " + expected)
	}
	switch u.Scheme {
	case "sqlite":
		path, _ := SQLitePath(rawURL)
		switch {
		case path == "":
			return nil, errors.New("DATABASE_URL sqlite: names no file: expected sqlite:PATH, e.g. sqlite:apiorint.db")
		case strings.Contains(path, "?"):
			return nil, fmt.Errorf("DATABASE_URL %q: a SQLite path cannot hold '?' (no parameters are accepted)", rawURL)
		}
		db, err := sql.Open("sqlite", path+"?"+sqliteParams)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL %q: %w", rawURL, err)
		}
		return newSQLStore(db, sqlite, "sqlite:"+path), nil
	case "postgres", "postgresql":
		what := u.Redacted()
		cfg, err := pgx.ParseConfig(rawURL)
		if err != nil {
			// pgx's error hides the password of a URL it could split, as this one is.
			return nil, fmt.Errorf("DATABASE_URL %s: %w", what, err)
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = connectTimeout
		}
		return newSQLStore(stdlib.OpenDB(*cfg), postgres, what), nil
	case "":
		return nil, fmt.Errorf("DATABASE_URL %q has no scheme: %s (a SQLite file is sqlite:%s)", u.Redacted(), expected, u.Redacted())
	default:
		return nil, fmt.Errorf("DATABASE_URL %s is not supported: %s", u.Redacted(), expected)
	}
}

// A dialect is what differs between the engines in the SQL this package writes.
type dialect int

const (
	sqlite dialect = iota
	postgres
)

func (d dialect) String() string {
	if d == postgres {
		return "PostgreSQL"
	}
	return "SQLite"
}

// rebind turns the '?' placeholders the queries are written with into PostgreSQL's $1,
// $2…. The queries hold no '?' of their own.
func (d dialect) rebind(query string) string {
	if d != postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeArg is a time as a column holds it: timestamptz in PostgreSQL, Unix microseconds
// (UTC) in SQLite, which has no time type and compares integers exactly.
func (d dialect) timeArg(t time.Time) any {
	if d == postgres {
		return t.UTC()
	}
	return t.UnixMicro()
}

// dayExpr is the UTC day of a time column, as days since 1970-01-01.
func (d dialect) dayExpr(col string) string {
	if d == postgres {
		return "floor(extract(epoch from " + col + ") / 86400)::bigint"
	}
	return col + " / 86400000000"
}

// collate makes text order the same in both engines: byte order, as SQLite's default,
// rather than the PostgreSQL database's locale.
func (d dialect) collate() string {
	if d == postgres {
		return ` COLLATE "C"`
	}
	return ""
}

// A timeScan scans a time column of either engine (see timeArg).
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*s.t = v.UTC()
	case int64:
		*s.t = time.UnixMicro(v).UTC()
	case nil:
		*s.t = time.Time{}
	default:
		return fmt.Errorf("store: a time column holds %T", src)
	}
	return nil
}
