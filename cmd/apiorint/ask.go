package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apiorint/apiorint/bot"
	"github.com/apiorint/apiorint/index"
)

// ask answers one question: `apiorint ask [--json] [-n N] QUESTION...`.
func ask(ctx context.Context, getenv func(string) string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, `print one JSON object: {query, match, uncovered, results: [{id, title, score, text}]}`)
	n := fs.Int("n", index.DefaultSize, "how many results at most")
	explain := fs.Bool("explain", false, "also show how the question was read and each result scored")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: apiorint ask [--json] [--explain] [-n N] QUESTION...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2, err: err}
	}
	question := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(question) == "" {
		fs.Usage()
		return usageError("ask: no question")
	}
	if *n < 1 {
		return usageError("ask: -n must be at least 1")
	}
	ix, _, err := openIndex(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer ix.Close()

	var (
		ans index.Answer
		why index.Explanation
	)
	// A message pasted from Slack is asked as the bot would ask it, and echoed as typed.
	plain := bot.PlainText(question)
	if *explain {
		ans, why, err = ix.Explain(ctx, plain, *n)
	} else {
		ans, err = ix.Search(ctx, plain, *n)
	}
	ans.Query = question
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if *explain {
			return enc.Encode(struct {
				index.Answer
				Explain index.Explanation `json:"explain"`
			}{ans, why})
		}
		return enc.Encode(ans)
	}
	writeAnswer(stdout, ans, ix.Topics())
	if *explain {
		writeExplanation(stdout, why, ix)
	}
	return nil
}

// writeExplanation prints how a question was read and its results scored.
func writeExplanation(w io.Writer, why index.Explanation, ix *index.Index) {
	fmt.Fprintf(w, "\n--- how it was read\nasks:      %v\nnames:     %v\nconcepts:  %v\nsearched:  %v\n",
		why.Intents, why.Subjects, why.Concepts, why.Words)
	fmt.Fprintf(w, "evidence:  known %.1f, unknown %.1f, topical %v, small talk %d (%s)\n", why.Known, why.Unknown, why.Topical, why.SmallTalk, why.Engine)
	if why.Gate != nil {
		fmt.Fprintf(w, "gate:      %+.2f (above zero: about the article)\n", *why.Gate)
	}
	for _, s := range why.Scores {
		title := s.ID
		if r, ok := ix.Section(s.ID); ok {
			title = r.Title
		}
		fmt.Fprintf(w, "  %.3f = text %.3f + profile %.3f  %s\n", s.Text+s.Profile, s.Text, s.Profile, title)
	}
}

// interactive answers questions from stdin until it ends: the terminal mode for when Slack
// is not configured. It works the same when stdin is a pipe, without the prompts.
func interactive(ctx context.Context, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ix, _, err := openIndex(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer ix.Close()

	prompt := isTerminal(stdin)
	if prompt {
		fmt.Fprint(stdout, `apiorint: ask me about APIs and integrations ("quit" or Ctrl-D to leave).
Slack is not configured: set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see README.md) to run the bot.

> `)
	}
	// Lines are read in their own goroutine so that the session ends with ctx (Ctrl-C at the
	// prompt) rather than when the next line comes: a read from a terminal is not
	// interrupted by a signal.
	lines, readErr := make(chan string), make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		var line string
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				select {
				case err := <-readErr:
					return err
				default: // stopped by ctx
					return nil
				}
			}
			line = l
		}
		question := bot.PlainText(line)
		switch strings.ToLower(question) {
		case "":
		case "quit", "exit", "q":
			return nil
		default:
			ans, err := ix.Search(ctx, question, index.DefaultSize)
			if err != nil {
				return err
			}
			writeAnswer(stdout, ans, ix.Topics())
			fmt.Fprintln(stdout)
		}
		if prompt {
			fmt.Fprint(stdout, "> ")
		}
	}
}

// writeAnswer prints an answer for a terminal: for a closest answer first what the knowledge
// does not cover, then the title, where it comes from, the text and the next best matches by
// title; for small talk how to ask; with no match the topics it knows.
func writeAnswer(w io.Writer, ans index.Answer, topics []index.Topic) {
	switch {
	case ans.SmallTalk:
		fmt.Fprintln(w, `Hi! I answer questions about APIs and integrations. Try, for example: apiorint ask "which one scales better?"`)
		return
	case len(ans.Results) == 0:
		fmt.Fprintf(w, "No good match for %q. I can answer questions about:\n", ans.Query)
		for _, t := range topics {
			fmt.Fprintf(w, "  - %s\n", t.Title)
		}
		fmt.Fprintln(w, `Try, for example: apiorint ask "which one scales better?"`)
		return
	case ans.Match == index.MatchClosest:
		fmt.Fprintf(w, "I have nothing on %s. The closest I have:\n\n", strings.Join(ans.Uncovered, ", "))
	}
	best := ans.Results[0]
	fmt.Fprintf(w, "%s\n%s\n\n%s\n", best.Title, strings.Join(append([]string{best.Source}, best.Path...), " › "),
		strings.ReplaceAll(best.Text, "**", ""))
	if len(ans.Results) > 1 {
		var more []string
		for _, r := range ans.Results[1:] {
			more = append(more, r.Title)
		}
		fmt.Fprintf(w, "\nSee also: %s\n", strings.Join(more, " · "))
	}
}

// isTerminal reports whether r is an interactive terminal, not a pipe or a file.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
