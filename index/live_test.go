package index_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apiorint/apiorint/index"
	"github.com/blevesearch/bleve/v2"
)

// waitFor waits until cond holds, or fails the test after a generous while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// unmanaged builds an index of the article for a Live to close: an Index must not be closed
// twice (Bleve panics).
func unmanaged(t *testing.T) *index.Index {
	t.Helper()
	ix, err := index.New(context.Background(), articleLibrary(t), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestLiveSwapUnderLoad swaps the index in service 20 times while 8 goroutines ask
// questions without pause: no question fails, and every index replaced is closed.
func TestLiveSwapUnderLoad(t *testing.T) {
	const swaps = 20
	ixs := make([]*index.Index, swaps+1)
	for i := range ixs {
		ixs[i] = unmanaged(t)
	}
	if isClosed(ixs[0]) {
		t.Fatal("a new index counts as closed: the test could not tell")
	}
	live := index.NewLive(ixs[0])

	var asked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := benchQuestions[(g+i)%len(benchQuestions)]
				if _, err := live.Search(context.Background(), q, 0); err != nil {
					t.Errorf("%q: %v", q, err)
					return
				}
				asked.Add(1)
			}
		})
	}
	for i := 1; i <= swaps; i++ {
		// Each swap lands among questions being asked.
		before := asked.Load()
		waitFor(t, "questions to be asked", func() bool { return asked.Load() >= before+8 })
		if err := live.Swap(ixs[i]); err != nil {
			t.Fatalf("swap %d: %v", i, err)
		}
		if live.Current() != ixs[i] {
			t.Fatalf("swap %d: another index in service", i)
		}
		// Swap has returned: the index it replaced is closed, not left to leak.
		if !isClosed(ixs[i-1]) {
			t.Errorf("swap %d: the replaced index is still open", i)
		}
	}
	close(stop)
	wg.Wait()
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if !isClosed(ixs[swaps]) {
		t.Error("Close left the index in service open")
	}
	t.Logf("%d questions asked during %d swaps", asked.Load(), swaps)
}

// TestLiveSwapWaitsForSearches holds a search inside the old index (Bleve calls back into
// the context mid-search), swaps, and checks that the swap waits for it: the search finishes
// normally, new questions go to the new index meanwhile, and only then is the old one closed.
func TestLiveSwapWaitsForSearches(t *testing.T) {
	old, next := unmanaged(t), unmanaged(t)
	live := index.NewLive(old)
	defer live.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	free := sync.OnceFunc(func() { close(release) })
	defer free() // never leave the search hanging, whatever fails
	var once sync.Once
	held := context.WithValue(context.Background(), bleve.SearchQueryStartCallbackKey,
		bleve.SearchQueryStartCallbackFn(func(uint64) error {
			once.Do(func() { close(entered) })
			<-release
			return nil
		}))
	type result struct {
		ans index.Answer
		err error
	}
	searched := make(chan result, 1)
	go func() {
		ans, err := live.Search(held, "what is middleware", 0)
		searched <- result{ans, err}
	}()
	<-entered

	swapped := make(chan error, 1)
	go func() { swapped <- live.Swap(next) }()
	waitFor(t, "the swap", func() bool { return live.Current() == next })

	// Questions asked now go to the new index, and do not wait for the old one.
	answers(t, next, "what is middleware", "Types Of Integrations")
	if ans, err := live.Search(context.Background(), "what is middleware", 0); err != nil || len(ans.Results) == 0 {
		t.Errorf("a question during the swap: %q, %v", titles(ans), err)
	}
	// A wait can only miss a Swap that returns too early, never invent one.
	select {
	case err := <-swapped:
		t.Fatalf("Swap returned (%v) while a search on the index it replaces was running", err)
	case <-time.After(100 * time.Millisecond):
	}

	free()
	r := <-searched
	if r.err != nil || len(r.ans.Results) == 0 || r.ans.Results[0].Title != "Types Of Integrations" {
		t.Errorf("the search begun before the swap: %q, %v", titles(r.ans), r.err)
	}
	if err := <-swapped; err != nil {
		t.Errorf("swap: %v", err)
	}
	if !isClosed(old) {
		t.Error("the replaced index is still open")
	}
}

// TestLiveSearchAfterClose: once Live is closed, a search says so at once rather than
// waiting for an index that will never come.
func TestLiveSearchAfterClose(t *testing.T) {
	lib := articleLibrary(t)
	ix, err := index.New(context.Background(), lib, index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := index.NewLive(ix)
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := live.Search(context.Background(), "what is an api", 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, index.ErrClosed) {
			t.Errorf("error %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a search after Close never returned")
	}
}
