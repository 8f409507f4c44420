package store

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

// versions lists the versions schema_migrations records.
func versions(t *testing.T, s *sqlStore) []int {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func allVersions() []int {
	var vs []int
	for _, m := range migrations() {
		vs = append(vs, m.version)
	}
	return vs
}

func TestMigrationsNumbered(t *testing.T) {
	for i, m := range migrations() {
		if m.version != i+1 {
			t.Errorf("migration %d has version %d", i, m.version)
		}
	}
	if latestVersion() < 2 {
		t.Errorf("latest version %d: an upgrade needs two", latestVersion())
	}
}

func TestMigrateFromEmpty(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		if got := versions(t, s); !reflect.DeepEqual(got, allVersions()) {
			t.Errorf("versions = %v, want %v", got, allVersions())
		}
	})
}

func TestMigrateIdempotent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		s := openStore(t, url)
		save(t, s, Batch{Questions: []Question{{ID: "q", At: time.Now(), Text: "kept?", Outcome: OutcomeNone}}})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openStore(t, url) // applies nothing twice
		if err := migrate(context.Background(), s.db, s.dialect, latestVersion()); err != nil {
			t.Fatalf("migrating again: %v", err)
		}
		if got := versions(t, s); !reflect.DeepEqual(got, allVersions()) {
			t.Errorf("versions = %v, want %v", got, allVersions())
		}
		if gaps, err := s.Gaps(context.Background(), time.Time{}, 0); err != nil || len(gaps) != 1 {
			t.Errorf("Gaps = %v, %v; want the question kept", gaps, err)
		}
	})
}

// A database of version 1 with records in it is upgraded, and its records are grouped by
// the normalised text the upgrade computed.
func TestMigrateFromVersion1(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old, err := open(url)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate(ctx, old.db, old.dialect, 1); err != nil {
			t.Fatalf("migrating to version 1: %v", err)
		}
		d := old.dialect
		insertQ := d.rebind(`INSERT INTO questions (id, at, surface, team, channel, user_id, text, outcome, section, score, parent)
			VALUES (?, ?, 'slash', 'T', 'C', 'U', ?, ?, ?, 1.5, '')`)
		for _, q := range []struct{ id, text, outcome, section string }{
			{"q1", "What is REST?", OutcomeNone, ""},
			{"q2", "  what is   rest ", OutcomeNone, ""},
			{"q3", "Webhooks?", OutcomeAnswer, "webhooks"},
		} {
			if _, err := old.db.ExecContext(ctx, insertQ, q.id, d.timeArg(ago(time.Hour)), q.text, q.outcome, q.section); err != nil {
				t.Fatal(err)
			}
		}
		insertV := d.rebind(`INSERT INTO votes (answer_id, user_id, value, at, question, section, outcome)
			VALUES (?, ?, -1, ?, ?, 'webhooks', 'answer')`)
		for _, v := range []struct{ answer, user, question string }{{"q3", "U1", "Webhooks?"}, {"q3", "U2", "webhooks"}} {
			if _, err := old.db.ExecContext(ctx, insertV, v.answer, v.user, d.timeArg(ago(time.Hour)), v.question); err != nil {
				t.Fatal(err)
			}
		}
		if got := versions(t, old); !reflect.DeepEqual(got, []int{1}) {
			t.Fatalf("versions = %v, want [1]", got)
		}
		old.Close()

		s := openStore(t, url)
		if got := versions(t, s); !reflect.DeepEqual(got, allVersions()) {
			t.Errorf("versions = %v, want %v", got, allVersions())
		}
		gaps, err := s.Gaps(ctx, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 2 || gaps[0].Asked != 2 || gaps[1].Asked != 2 {
			t.Errorf("gaps = %+v, want two groups of 2 (the 👎 and the REST questions)", gaps)
		}
		st, err := s.Stats(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 3 || len(st.Sections) != 1 || st.Sections[0] != (SectionStats{Section: "webhooks", Answers: 1, Down: 2}) {
			t.Errorf("Stats = %+v, want the 3 questions and 2 votes kept", st)
		}
	})
}

// Processes that start at once on a new database all open it, and migrate it once.
func TestMigrateConcurrentOpens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, url string) {
		const n = 8
		stores := make([]Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = Open(context.Background(), url) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				continue
			}
			defer stores[i].Close()
		}
		s := openStore(t, url)
		if got := versions(t, s); !reflect.DeepEqual(got, allVersions()) {
			t.Errorf("versions = %v, want %v", got, allVersions())
		}
	})
}
