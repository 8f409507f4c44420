// Package synthetic makes up knowledge for benchmarks and load runs: Markdown files of
// sections that read, to a search engine, like a large team's documentation. Their words are
// drawn from a fixed vocabulary of common technical English (which includes the article's
// own words, "api", "integration", "performance"…) and made-up product names, with a few
// words frequent and most rare, as in real text. The same seed gives the same files.
package synthetic

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/apiorint/apiorint/knowledge"
)

// SectionsPerFile is how many sections each generated file holds.
const SectionsPerFile = 100

// common is the vocabulary documentation is mostly made of.
var common = strings.Fields(`
the a to of and in is for that on with as it be this are by or from you can your we will
data system service api integration user team request response server client application
app database query cache queue event message error log metric alert deploy release build
test config configuration setting environment production staging cluster node pod container
image network latency throughput performance scale scaling load capacity limit quota timeout
retry backoff token secret key auth authentication permission role access policy audit
schema field record table index search storage backup restore migration version upgrade
endpoint route handler middleware proxy gateway webhook callback payload json http https
rest grpc sdk library package module dependency function method class object interface
pipeline job worker schedule cron batch stream sync async connect connection pool thread
process memory cpu disk file directory path url domain dns certificate tls ssl security
customer account billing invoice payment order product inventory catalog shipping report
dashboard analytics marketing email notification campaign workflow automation rule trigger
incident outage postmortem runbook oncall escalation support ticket sla slo uptime health
check monitor trace span sample rate window bucket counter gauge histogram summary label
owner review approval merge branch commit repository ci pipeline artifact registry tag
document guide overview introduction reference tutorial example note warning tip step
first next then after before when if not only also more most other some each every all
new old large small fast slow simple complex flexible reliable secure available consistent
`)

// Generate returns n sections: SectionsPerFile to a file named guide-N.md, each file one "#"
// guide with "##" topics and some "###" details.
func Generate(seed uint64, n int) []knowledge.Section {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	names := make([]string, 3000)
	for i := range names {
		var b strings.Builder
		for range 4 + rng.IntN(6) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		names[i] = b.String()
	}
	word := func() string {
		if rng.IntN(6) == 0 {
			// Made-up names: rare, as product and service names are.
			return names[int(float64(len(names))*rng.Float64()*rng.Float64())]
		}
		// Zipf-like over the vocabulary: its first words are the most common.
		return common[int(float64(len(common))*rng.Float64()*rng.Float64())]
	}
	sentence := func() string {
		ws := make([]string, 6+rng.IntN(14))
		for i := range ws {
			ws[i] = word()
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		return strings.Join(ws, " ") + "."
	}
	title := func() string {
		ws := make([]string, 2+rng.IntN(4))
		for i := range ws {
			w := word()
			ws[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		return strings.Join(ws, " ")
	}
	var out []knowledge.Section
	var guide string
	var topic string
	for i := range n {
		file := fmt.Sprintf("guide-%04d.md", i/SectionsPerFile)
		var path []string
		switch {
		case i%SectionsPerFile == 0:
			guide = fmt.Sprintf("Guide %d: %s", i/SectionsPerFile, title())
			path = []string{guide}
		case i%4 == 3:
			path = []string{guide, topic, title()}
		default:
			topic = title()
			path = []string{guide, topic}
		}
		var body strings.Builder
		for p := range 1 + rng.IntN(3) {
			if p > 0 {
				body.WriteString("\n\n")
			}
			for s := range 2 + rng.IntN(4) {
				if s > 0 {
					body.WriteByte(' ')
				}
				body.WriteString(sentence())
			}
		}
		out = append(out, knowledge.Section{
			ID: knowledge.Slug(append([]string{file}, path...)), Title: path[len(path)-1], Path: path,
			Body: body.String(), Source: file,
		})
	}
	return out
}

// WriteDir writes sections as Markdown files in dir, one file per Source, headings nested by
// their paths: what KNOWLEDGE_DIR holds.
func WriteDir(dir string, sections []knowledge.Section) error {
	files := map[string]*strings.Builder{}
	var order []string
	for _, s := range sections {
		b, ok := files[s.Source]
		if !ok {
			b = &strings.Builder{}
			files[s.Source] = b
			order = append(order, s.Source)
		}
		fmt.Fprintf(b, "%s %s\n\n%s\n\n", strings.Repeat("#", len(s.Path)), s.Title, s.Body)
	}
	for _, name := range order {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(files[name].String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
