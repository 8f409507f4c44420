package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/apiorint/apiorint/index"
)

// eval measures answer quality: `apiorint eval [FILE]` prints, for each evaluation set
// shipped in the binary (or for FILE), top-1, top-3 and MRR over its answerable questions,
// how many got a plain answer, how many of the others got what they should, and every miss.
func eval(ctx context.Context, getenv func(string) string, args []string, stdout io.Writer) error {
	var sets map[string][]index.Case
	switch len(args) {
	case 0:
		cases, err := index.EvalCases()
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		sets = make(map[string][]index.Case)
		for _, c := range cases {
			sets[c.Set] = append(sets[c.Set], c)
		}
	case 1:
		if strings.HasPrefix(args[0], "-") { // a flag, such as --help: eval takes none
			return usageError("usage: apiorint eval [FILE]")
		}
		f, err := os.Open(args[0])
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		cases, err := index.ParseCases(args[0], f)
		if err != nil {
			return fmt.Errorf("eval: %s: %w", args[0], err)
		}
		sets = map[string][]index.Case{args[0]: cases}
	default:
		return usageError("usage: apiorint eval [FILE]")
	}
	ix, _, err := openIndex(ctx, getenv, io.Discard)
	if err != nil {
		return err
	}
	defer ix.Close()
	names := make([]string, 0, len(sets))
	for name := range sets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		report, err := ix.Evaluate(ctx, sets[name])
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		fmt.Fprintf(stdout, "== %s (%d questions)\n", name, len(sets[name]))
		if _, err := report.WriteTo(stdout); err != nil {
			return err
		}
	}
	return nil
}
