package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apiorint/apiorint/index"
)

// defaultEvalSet is the repository's own evaluation set, relative to its root.
const defaultEvalSet = "index/testdata/eval.tsv"

// eval measures answer quality: `apiorint eval [FILE]` prints top-1, top-3 and MRR over the
// set's questions, how many off-topic questions were refused, and every miss.
func eval(ctx context.Context, getenv func(string) string, args []string, stdout io.Writer) error {
	path := defaultEvalSet
	switch len(args) {
	case 0:
	case 1:
		path = args[0]
	default:
		return usageError("usage: apiorint eval [FILE]")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w (run from the repository root, or name a file)", err)
	}
	defer f.Close()
	cases, err := index.ParseCases(f)
	if err != nil {
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	ix, _, err := openIndex(ctx, getenv, io.Discard)
	if err != nil {
		return err
	}
	defer ix.Close()
	report, err := ix.Evaluate(ctx, cases)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	_, err = report.WriteTo(stdout)
	return err
}
