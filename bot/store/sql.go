package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// sqlStore is the Store of both engines: they differ only in a few expressions (dialect).
type sqlStore struct {
	db      *sql.DB
	dialect dialect
	what    string           // the database for messages, without a password
	now     func() time.Time // today, for Stats; tests move it
	// pruneChunk is how many rows one statement of Prune deletes at most.
	pruneChunk int

	connecting chan struct{} // a token: one connection and migration attempt at a time
	up         atomic.Bool   // migrations applied
}

func newSQLStore(db *sql.DB, d dialect, what string) *sqlStore {
	return &sqlStore{db: db, dialect: d, what: what, now: time.Now, pruneChunk: 1000, connecting: make(chan struct{}, 1)}
}

// ready connects and applies the pending migrations, once: Open calls it at once, a store
// from OpenLazy on each use until it succeeds.
func (s *sqlStore) ready(ctx context.Context) error {
	if s.up.Load() {
		return nil
	}
	select {
	case s.connecting <- struct{}{}:
		defer func() { <-s.connecting }()
	case <-ctx.Done():
		return fmt.Errorf("store: %s: %w", s.what, ctx.Err())
	}
	if s.up.Load() {
		return nil
	}
	if err := s.db.PingContext(ctx); err != nil {
		if unreachable(err) {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, s.what, err)
		}
		return fmt.Errorf("store: open %s (DATABASE_URL): %w", s.what, err)
	}
	if err := migrate(ctx, s.db, s.dialect, latestVersion()); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.what, err)
	}
	s.up.Store(true)
	return nil
}

// unreachable reports whether err says the server could not be reached or is not taking
// connections yet, rather than that it refused us (wrong password, no such database).
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 53: insufficient resources (too many connections); 57: shutting down, starting up.
		return strings.HasPrefix(pgErr.Code, "53") || strings.HasPrefix(pgErr.Code, "57")
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)
}

func (s *sqlStore) Close() error { return s.db.Close() }

// Columns, in the order rows are built below.
const (
	insertQuestions = `INSERT INTO questions (id, at, surface, team, channel, user_id, text, norm, outcome, section, score, parent)`
	questionsTail   = ` ON CONFLICT (id) DO NOTHING`
	insertVotes     = `INSERT INTO votes (answer_id, user_id, value, at, question, question_norm, section, outcome)`
	// The latest click wins even when it is written first (another replica catching up).
	votesTail = ` ON CONFLICT (answer_id, user_id) DO UPDATE SET value = excluded.value, at = excluded.at,
		question = excluded.question, question_norm = excluded.question_norm, section = excluded.section,
		outcome = excluded.outcome WHERE votes.at <= excluded.at`
)

func (s *sqlStore) Save(ctx context.Context, b Batch) error {
	if len(b.Questions) == 0 && len(b.Votes) == 0 {
		return nil
	}
	d, now := s.dialect, s.now()
	at := func(t time.Time) any {
		if t.IsZero() {
			t = now
		}
		return d.timeArg(t)
	}
	questions := make([][]any, 0, len(b.Questions))
	for _, q := range b.Questions {
		if err := validQuestion(q); err != nil {
			return err
		}
		questions = append(questions, []any{clean(q.ID), at(q.At), clean(q.Surface), clean(q.Team), clean(q.Channel),
			clean(q.User), clean(q.Text), clean(Normalize(q.Text)), q.Outcome, clean(q.Section), finite(q.Score), clean(q.Parent)})
	}
	// One row per answer and person: PostgreSQL refuses to update a row twice in one
	// statement. The latest click wins, as in votesTail.
	votes := make([]Vote, 0, len(b.Votes))
	seen := make(map[[2]string]int, len(b.Votes))
	for _, v := range b.Votes {
		if err := validVote(v); err != nil {
			return err
		}
		if v.At.IsZero() {
			v.At = now
		}
		k := [2]string{v.AnswerID, v.User}
		if i, ok := seen[k]; ok {
			if !v.At.Before(votes[i].At) {
				votes[i] = v
			}
			continue
		}
		seen[k] = len(votes)
		votes = append(votes, v)
	}
	voteRows := make([][]any, 0, len(votes))
	for _, v := range votes {
		voteRows = append(voteRows, []any{clean(v.AnswerID), clean(v.User), v.Value, d.timeArg(v.At), clean(v.Question),
			clean(Normalize(v.Question)), clean(v.Section), clean(v.Outcome)})
	}

	if err := s.ready(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: save: %w", err)
	}
	defer tx.Rollback()
	if err := insertRows(ctx, tx, d, insertQuestions, questions, questionsTail); err != nil {
		return fmt.Errorf("store: save questions: %w", err)
	}
	if err := insertRows(ctx, tx, d, insertVotes, voteRows, votesTail); err != nil {
		return fmt.Errorf("store: save votes: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: save: %w", err)
	}
	return nil
}

// rowsPerInsert bounds the rows of one INSERT: one statement per row costs a round trip
// each on PostgreSQL, and both engines limit the parameters of a statement.
const rowsPerInsert = 100

// insertRows runs head VALUES (…), (…) tail for rows, rowsPerInsert rows at a time.
func insertRows(ctx context.Context, tx *sql.Tx, d dialect, head string, rows [][]any, tail string) error {
	for chunk := range slices.Chunk(rows, rowsPerInsert) {
		var q strings.Builder
		q.WriteString(head)
		q.WriteString(" VALUES ")
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(")
			q.WriteString(strings.Repeat("?, ", len(row)-1))
			q.WriteString("?)")
			args = append(args, row...)
		}
		q.WriteString(tail)
		if _, err := tx.ExecContext(ctx, d.rebind(q.String()), args...); err != nil {
			return err
		}
	}
	return nil
}

// The gap query groups the bad answers and the 👎 by normalised text (and outcome), and
// takes the wording, section and time of the most recent of each group.
const gapsQuery = `
WITH g AS (
	SELECT norm, outcome, text AS q, section, at, id AS k FROM questions
	WHERE outcome IN ('none', 'closest') AND at >= ?
	UNION ALL
	SELECT question_norm, 'down', question, section, at, answer_id || ' ' || user_id FROM votes
	WHERE value < 0 AND at >= ?
), r AS (
	SELECT q, outcome, section, at,
		count(*) OVER (PARTITION BY norm, outcome) AS asked,
		row_number() OVER (PARTITION BY norm, outcome ORDER BY at DESC, k DESC) AS n
	FROM g
)
SELECT q, asked, outcome, section, at FROM r WHERE n = 1
ORDER BY asked DESC, at DESC, q%[1]s, outcome%[1]s
LIMIT ?`

func (s *sqlStore) Gaps(ctx context.Context, since time.Time, limit int) ([]Gap, error) {
	if limit <= 0 {
		limit = 50
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	d := s.dialect
	gaps := []Gap{}
	err := s.each(ctx, fmt.Sprintf(gapsQuery, d.collate()), []any{d.timeArg(since), d.timeArg(since), limit}, func(rows *sql.Rows) error {
		var g Gap
		if err := rows.Scan(&g.Question, &g.Asked, &g.Outcome, &g.Section, timeScan{&g.Last}); err != nil {
			return err
		}
		// Whole seconds, so that JSON shows RFC 3339 without fractions.
		g.Last = g.Last.Truncate(time.Second)
		gaps = append(gaps, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: gaps: %w", err)
	}
	return gaps, nil
}

const (
	statsQuestions = `SELECT %s AS day, surface, outcome, count(*) FROM questions WHERE at >= ? GROUP BY 1, 2, 3`
	statsSections  = `SELECT section, count(*) FROM questions WHERE at >= ? AND section <> '' GROUP BY section`
	statsVotes     = `SELECT section, sum(CASE WHEN value > 0 THEN 1 ELSE 0 END), sum(CASE WHEN value < 0 THEN 1 ELSE 0 END)
		FROM votes WHERE at >= ? AND section <> '' GROUP BY section`
)

const oneDay = 24 * time.Hour

func (s *sqlStore) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{Since: since.UTC(), BySurface: map[string]int{}, ByOutcome: map[string]int{}, Sections: []SectionStats{}}
	if err := s.ready(ctx); err != nil {
		return st, err
	}
	d := s.dialect
	from := d.timeArg(since)
	fail := func(err error) (Stats, error) { return st, fmt.Errorf("store: stats: %w", err) }

	perDay := map[int64]int{}
	err := s.each(ctx, fmt.Sprintf(statsQuestions, d.dayExpr("at")), []any{from}, func(rows *sql.Rows) error {
		var dayNo int64
		var surface, outcome string
		var n int
		if err := rows.Scan(&dayNo, &surface, &outcome, &n); err != nil {
			return err
		}
		perDay[dayNo] += n
		st.BySurface[surface] += n
		st.ByOutcome[outcome] += n
		st.Total += n
		return nil
	})
	if err != nil {
		return fail(err)
	}

	sections := map[string]*SectionStats{}
	section := func(id string) *SectionStats {
		if sec, ok := sections[id]; ok {
			return sec
		}
		sec := &SectionStats{Section: id}
		sections[id] = sec
		return sec
	}
	err = s.each(ctx, statsSections, []any{from}, func(rows *sql.Rows) error {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		section(id).Answers = n
		return nil
	})
	if err != nil {
		return fail(err)
	}
	err = s.each(ctx, statsVotes, []any{from}, func(rows *sql.Rows) error {
		var id string
		var up, down int
		if err := rows.Scan(&id, &up, &down); err != nil {
			return err
		}
		sec := section(id)
		sec.Up, sec.Down = up, down
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for _, sec := range sections {
		st.Sections = append(st.Sections, *sec)
	}
	slices.SortFunc(st.Sections, func(a, b SectionStats) int {
		return cmp.Or(cmp.Compare(b.Answers, a.Answers), strings.Compare(a.Section, b.Section))
	})

	st.PerDay = days(since, s.now(), perDay)
	return st, nil
}

// days lists the UTC days from since's to now's, with their counts from perDay (keyed by
// days since 1970). A zero since starts at the first day with questions; days with
// questions after now's (a clock ahead somewhere) are listed too, so that the days add up
// to the total.
func days(since, now time.Time, perDay map[int64]int) []DayCount {
	dayOf := func(t time.Time) int64 { return t.UTC().Truncate(oneDay).Unix() / 86400 }
	first, last := dayOf(since), dayOf(now)
	if since.IsZero() {
		if len(perDay) == 0 {
			return []DayCount{}
		}
		first = last
	}
	for dayNo := range perDay {
		first, last = min(first, dayNo), max(last, dayNo)
	}
	out := make([]DayCount, 0, max(last-first+1, 0))
	for dayNo := first; dayNo <= last; dayNo++ {
		out = append(out, DayCount{Day: time.Unix(dayNo*86400, 0).UTC(), Count: perDay[dayNo]})
	}
	return out
}

// each runs query with args and calls f for each row.
func (s *sqlStore) each(ctx context.Context, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Prune deletes what is older than before, a chunk of rows per statement with a pause
// between: one long transaction would hold SQLite's write lock for as long as it takes,
// and the records being written meanwhile would fail on the lock.
func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int64, error) {
	if err := s.ready(ctx); err != nil {
		return 0, err
	}
	var n int64
	// A chunk is picked by each table's primary key.
	for _, t := range []struct{ table, key string }{{"questions", "id"}, {"votes", "(answer_id, user_id)"}} {
		table := t.table
		query := s.dialect.rebind(fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE at < ? LIMIT %d)",
			table, t.key, strings.Trim(t.key, "()"), table, s.pruneChunk))
		for {
			res, err := s.db.ExecContext(ctx, query, s.dialect.timeArg(before))
			if err != nil {
				return n, fmt.Errorf("store: prune %s: %w", table, err)
			}
			deleted, err := res.RowsAffected()
			if err != nil {
				return n, fmt.Errorf("store: prune %s: %w", table, err)
			}
			n += deleted
			if deleted < int64(s.pruneChunk) {
				break
			}
			select {
			case <-ctx.Done():
				return n, fmt.Errorf("store: prune %s: %w", table, ctx.Err())
			case <-time.After(pruneRest):
			}
		}
	}
	return n, nil
}

// pruneRest is the pause between two chunks of a prune, for the writer to take the lock.
const pruneRest = 10 * time.Millisecond
