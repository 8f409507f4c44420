package knowledge_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apiorint/apiorint/knowledge"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want []knowledge.Section
	}{{
		name: "example questions are kept apart from the text",
		md: "# Scaling\n\n<!-- questions\n- can it grow?\n* what about traffic spikes\nadding systems later\n-->\n\nIt scales.\n\n" +
			"<!-- a comment stays -->\n\n## Sub\n\n<!-- questions one line? -->\n\nText.\n",
		want: []knowledge.Section{
			{ID: "scaling", Title: "Scaling", Path: []string{"Scaling"}, Body: "It scales.\n\n<!-- a comment stays -->",
				Questions: []string{"can it grow?", "what about traffic spikes", "adding systems later"}},
			{ID: "scaling/sub", Title: "Sub", Path: []string{"Scaling", "Sub"}, Body: "Text.", Questions: []string{"one line?"}},
		},
	}, {
		name: "a question comment in a code fence is text",
		md:   "# Code\n\n```\n<!-- questions\nno\n-->\n```\n",
		want: []knowledge.Section{
			{ID: "code", Title: "Code", Path: []string{"Code"}, Body: "```\n<!-- questions\nno\n-->\n```"},
		},
	}, {
		name: "headings nest by level",
		md:   "# Guide\n\nIntro.\n\n## Setup\n\nRun it.\n\n### Linux\n\napt install.\n\n## Use\n\nAsk.\n",
		want: []knowledge.Section{
			{ID: "guide", Title: "Guide", Path: []string{"Guide"}, Body: "Intro."},
			{ID: "guide/setup", Title: "Setup", Path: []string{"Guide", "Setup"}, Body: "Run it."},
			{ID: "guide/setup/linux", Title: "Linux", Path: []string{"Guide", "Setup", "Linux"}, Body: "apt install."},
			{ID: "guide/use", Title: "Use", Path: []string{"Guide", "Use"}, Body: "Ask."},
		},
	}, {
		name: "a # inside a code fence is not a heading",
		md:   "# Shell\n\n```sh\n# a comment\necho hi\n```\n",
		want: []knowledge.Section{
			{ID: "shell", Title: "Shell", Path: []string{"Shell"}, Body: "```sh\n# a comment\necho hi\n```"},
		},
	}, {
		name: "#### stays in the body",
		md:   "## Top\n\ntext\n\n#### Detail\n\nmore\n",
		want: []knowledge.Section{
			{ID: "top", Title: "Top", Path: []string{"Top"}, Body: "text\n\n#### Detail\n\nmore"},
		},
	}, {
		name: "setext headings and closing hashes",
		md:   "Title\n=====\n\nbody one\n\nSub ##\n---\n\nbody two\n",
		want: []knowledge.Section{
			{ID: "title", Title: "Title", Path: []string{"Title"}, Body: "body one"},
			{ID: "title/sub", Title: "Sub ##", Path: []string{"Title", "Sub ##"}, Body: "body two"},
		},
	}, {
		name: "text before the first heading is titled after the file",
		md:   "Some notes.\n\n# Later\n\nMore.\n",
		want: []knowledge.Section{
			{ID: "team-notes", Title: "Team Notes", Path: []string{"Team Notes"}, Body: "Some notes."},
			{ID: "later", Title: "Later", Path: []string{"Later"}, Body: "More."},
		},
	}, {
		name: "duplicate headings get unique IDs",
		md:   "# FAQ\n\none\n\n# FAQ\n\ntwo\n",
		want: []knowledge.Section{
			{ID: "faq", Title: "FAQ", Path: []string{"FAQ"}, Body: "one"},
			{ID: "faq-2", Title: "FAQ", Path: []string{"FAQ"}, Body: "two"},
		},
	}, {
		name: "a heading in a quote is text",
		md:   "# Q\n\n> # not a heading\n",
		want: []knowledge.Section{
			{ID: "q", Title: "Q", Path: []string{"Q"}, Body: "> # not a heading"},
		},
	}, {
		name: "byte order mark and CRLF",
		md:   "\uFEFF# Win\r\n\r\nbody\r\n",
		want: []knowledge.Section{
			{ID: "win", Title: "Win", Path: []string{"Win"}, Body: "body"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := knowledge.Parse("team-notes.md", []byte(tt.md))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].Source = "team-notes.md"
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, md string
		want     error
		wantText string
	}{
		{name: "empty", md: "", want: knowledge.ErrNoSections},
		{name: "blank", md: " \n\n\t\n", want: knowledge.ErrNoSections},
		{name: "not UTF-8", md: "# Caf\xe9\n", want: knowledge.ErrNotUTF8},
		{name: "empty heading", md: "text\n\n#\n\nmore\n", wantText: "line 3: empty heading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := knowledge.Parse("x.md", []byte(tt.md))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			if tt.wantText != "" && err.Error() != tt.wantText {
				t.Errorf("error %q, want %q", err, tt.wantText)
			}
		})
	}
}

func TestArticle(t *testing.T) {
	sections, err := knowledge.Article()
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, s := range sections {
		titles = append(titles, strings.Join(s.Path, " › "))
		if strings.Contains(s.Body, "Table of Contents") || strings.Contains(s.Body, "Toggle") {
			t.Errorf("%s: page-scrape debris in the body", s.Title)
		}
	}
	want := []string{
		"Introduction",
		"Understanding APIs",
		"Understanding APIs › What Is An API?",
		"Understanding APIs › Types Of APIs",
		"Understanding APIs › Common Use Cases For APIs",
		"Understanding Integrations",
		"Understanding Integrations › What Is Integration?",
		"Understanding Integrations › Types Of Integrations",
		"Understanding Integrations › Common Use Cases For Integrations",
		"Key Differences Between APIs And Integrations",
		"Key Differences Between APIs And Integrations › Functionality",
		"Key Differences Between APIs And Integrations › Complexity",
		"Key Differences Between APIs And Integrations › Scalability And Flexibility",
		"Key Differences Between APIs And Integrations › Performance Considerations",
		"Use Cases: When To Use Each",
		"Use Cases: When To Use Each › Choosing The Right Approach For Your Project",
	}
	if !reflect.DeepEqual(titles, want) {
		t.Errorf("headings:\n%s\nwant:\n%s", strings.Join(titles, "\n"), strings.Join(want, "\n"))
	}
}

// TestArticleKeepsTheText checks that the Markdown article holds every word of the user's
// text, in order, once the page-scrape debris is left out.
func TestArticleKeepsTheText(t *testing.T) {
	seed, err := os.ReadFile("testdata/api-vs-integration.txt")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(seed), "Table of Contents\nToggle", "")
	sections, err := knowledge.Article()
	if err != nil {
		t.Fatal(err)
	}
	var md []string
	for _, s := range sections {
		if s.Title != "Introduction" {
			md = append(md, s.Title)
		}
		md = append(md, s.Body)
	}
	if got, want := strings.Fields(strings.Join(md, "\n")), strings.Fields(text); !reflect.DeepEqual(got, want) {
		t.Errorf("the article's words differ from the seed text:\n got %d words\nwant %d words", len(got), len(want))
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.md"), "# Onboarding\n\nWelcome.\n")
	write(t, filepath.Join(dir, "sub", "b.md"), "# Onboarding\n\nAgain.\n")
	write(t, filepath.Join(dir, "notes.txt"), "not markdown")
	// Hidden files and directories are not knowledge: an editor's lock file (a dangling
	// link), a ConfigMap's versioned copies.
	write(t, filepath.Join(dir, ".hidden.md"), "# Hidden\n\nno\n")
	write(t, filepath.Join(dir, "..2024_01_01", "a.md"), "# Onboarding\n\nThe same file again.\n")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, ".#a.md")); err != nil {
		t.Fatal(err)
	}
	lib, err := knowledge.Load(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	article, _ := knowledge.Article()
	extra := lib.Sections[len(article):]
	if len(extra) != 2 || extra[0].ID != "onboarding" || extra[1].ID != "onboarding-2" || extra[1].Source != "sub/b.md" {
		t.Errorf("extra sections: %+v", extra)
	}
	if len(lib.Synonyms) == 0 || len(lib.Phrases) == 0 || len(lib.Fillers) == 0 {
		t.Errorf("word lists missing: %d synonyms, %d phrases, %d fillers", len(lib.Synonyms), len(lib.Phrases), len(lib.Fillers))
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	tests := []struct {
		name, file, content string
	}{
		{"not UTF-8", "bad.md", "# X\n\n\xff\xfe"},
		{"no sections", "empty.md", "\n"},
		{"NUL bytes", "zeros.md", "\x00\x00\x00\x00"},
		{"a control character in text", "bell.md", "# Title\n\nring \x07 ring\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "ok.md"), "# Fine\n\ntext\n")
			write(t, filepath.Join(dir, tt.file), tt.content)
			_, err := knowledge.Load(context.Background(), dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.file)) {
				t.Errorf("error %v, want one naming %s", err, tt.file)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		if os.Getuid() == 0 {
			t.Skip("root reads everything")
		}
		dir := t.TempDir()
		write(t, filepath.Join(dir, "secret.md"), "# S\n\nx\n")
		os.Chmod(filepath.Join(dir, "secret.md"), 0)
		if _, err := knowledge.Load(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "secret.md") {
			t.Errorf("error %v, want one naming secret.md", err)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		if _, err := knowledge.Load(context.Background(), filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Error("no error")
		}
	})
}

// TestManyDuplicateHeadings: unique IDs for n copies of one heading take linear time; they
// once took n²/2 steps, and 100,000 never finished.
func TestManyDuplicateHeadings(t *testing.T) {
	const n = 100_000
	md := strings.Repeat("# x\n\ny\n\n", n) + "# x-3\n\nz\n"
	start := time.Now()
	sections, err := knowledge.Parse("dup.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %v", took)
	}
	ids := make(map[string]bool, len(sections))
	for _, s := range sections {
		if ids[s.ID] {
			t.Fatalf("ID %q twice", s.ID)
		}
		ids[s.ID] = true
	}
	if len(ids) != n+1 || !ids["x"] || !ids["x-2"] || !ids["x-3"] || !ids["x-100000"] {
		t.Errorf("%d IDs", len(ids))
	}
}

func TestLoadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.md"), "# A\n\ntext\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := knowledge.Load(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestParseSynonyms(t *testing.T) {
	got, err := knowledge.ParseSynonyms([]byte("# comment\nfast, quick => performance # why\n\na, b, c\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []knowledge.Synonym{
		{Input: []string{"fast", "quick"}, Words: []string{"performance"}},
		{Words: []string{"a", "b", "c"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"lonely", "=> x", "x =>", "a => b => c"} {
		if _, err := knowledge.ParseSynonyms([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
