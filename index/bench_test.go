package index_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
	"github.com/apiorint/apiorint/knowledge/synthetic"
)

// benchQuestions are varied on purpose: keywords, sentences, synonyms, typos, questions
// the article does not cover, small talk, off-topic.
var benchQuestions = []string{
	"scalability", "what is an api?", "api vs integration", "which option is faster",
	"what is middleware?", "perfomance", "how do I choose between an api and an integration",
	"types of integrations", "WHAT IS AN API???", "recipe for banana bread", "is integration complex",
	"social media logins", "which one scales better?", "composite apis", "marketing automation",
	"rest vs soap?", "thanks!", "dumb question but what's an api in simple terms",
}

// libraryQuestions use words the article does not, so that they search every section.
var libraryQuestions = []string{
	"how do I rotate a secret token", "database migration rollback", "cluster node memory alert",
	"webhook payload retry backoff", "deploy to staging environment", "cron job schedule timeout",
	"invoice billing report", "certificate tls expiry", "queue worker throughput", "dashboard metric label",
}

// withSynthetic returns the article plus n made-up sections.
func withSynthetic(tb testing.TB, n int) knowledge.Library {
	tb.Helper()
	lib := articleLibrary(tb)
	lib.Sections = append(lib.Sections, synthetic.Generate(1, n)...)
	return lib
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{0, 1000, 20000} {
		b.Run(fmt.Sprintf("extra=%d", n), func(b *testing.B) {
			lib := withSynthetic(b, n)
			for b.Loop() {
				ix, err := index.New(context.Background(), lib, index.Options{})
				if err != nil {
					b.Fatal(err)
				}
				ix.Close()
			}
		})
	}
}

// BenchmarkReopen is a restart with INDEX_PATH: the index on disk holds the knowledge, and
// is reopened rather than rebuilt.
func BenchmarkReopen(b *testing.B) {
	for _, n := range []int{0, 20000} {
		b.Run(fmt.Sprintf("extra=%d", n), func(b *testing.B) {
			lib := withSynthetic(b, n)
			path := filepath.Join(b.TempDir(), "idx")
			ix, err := index.New(context.Background(), lib, index.Options{Path: path})
			if err != nil {
				b.Fatal(err)
			}
			ix.Close()
			var log bytes.Buffer
			for b.Loop() {
				log.Reset()
				ix, err := index.New(context.Background(), lib, index.Options{Path: path, Logger: slog.New(slog.NewTextHandler(&log, nil))})
				if err != nil {
					b.Fatal(err)
				}
				ix.Close()
				if !strings.Contains(log.String(), "index reopened") {
					b.Fatalf("not reopened: %s", log.String())
				}
			}
		})
	}
}

// BenchmarkSearch reports the median and 99th percentile latency of one question, as well as
// the mean that ns/op gives: questions about the article, and (with extra sections)
// questions only the extra sections answer.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{0, 1000, 20000} {
		ix, err := index.New(context.Background(), withSynthetic(b, n), index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, set := range []struct {
			name      string
			questions []string
		}{{"article", benchQuestions}, {"library", libraryQuestions}} {
			if n == 0 && set.name == "library" {
				continue
			}
			// Uncached: each search runs Bleve, as a question with words never asked before
			// does; and cached, as a question with the words of one asked before does.
			for _, cached := range []bool{false, true} {
				b.Run(fmt.Sprintf("extra=%d/%s/cached=%v", n, set.name, cached), func(b *testing.B) {
					var took []time.Duration
					i := 0
					for b.Loop() {
						if !cached {
							ix.ForgetHits()
						}
						start := time.Now()
						if _, err := ix.Search(context.Background(), set.questions[i%len(set.questions)], 0); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
						i++
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
					b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
				})
			}
		}
		ix.Close()
	}
}
