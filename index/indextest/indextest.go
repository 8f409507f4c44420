// Package indextest gives tests an index of the embedded article, built once per test
// binary: building one takes tens of milliseconds, and most tests need the same.
package indextest

import (
	"context"
	"sync"
	"testing"

	"github.com/apiorint/apiorint/index"
	"github.com/apiorint/apiorint/knowledge"
)

var (
	once    sync.Once
	article *index.Index
	err     error
)

// Article returns an in-memory index of the embedded article, shared by every test of the
// binary; tests must not close it.
func Article(tb testing.TB) *index.Index {
	tb.Helper()
	once.Do(func() {
		var lib knowledge.Library
		if lib, err = knowledge.Load(context.Background(), ""); err == nil {
			article, err = index.New(context.Background(), lib, index.Options{})
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return article
}
