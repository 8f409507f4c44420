package index

import (
	"context"
	"sync"
	"sync/atomic"
)

// Live is the index in service, which a reload of the knowledge replaces while questions are
// being answered: each question is answered by one index from start to end, none waits for
// a rebuild, and a replaced index is closed once the questions it is answering are done. It
// is safe for concurrent use.
type Live struct {
	current atomic.Pointer[generation]
}

// A generation is one index in service and the searches running on it.
type generation struct {
	ix     *Index
	mu     sync.RWMutex // read-held by each search; taken to close the index
	closed bool
}

// NewLive serves ix.
func NewLive(ix *Index) *Live {
	l := &Live{}
	l.current.Store(&generation{ix: ix})
	return l
}

// Swap puts ix in service and closes the index it replaces once the searches running on it
// are done, which it waits for.
func (l *Live) Swap(ix *Index) error {
	old := l.current.Swap(&generation{ix: ix})
	old.mu.Lock()
	defer old.mu.Unlock()
	old.closed = true
	return old.ix.Close()
}

// Close closes the index in service.
func (l *Live) Close() error {
	g := l.current.Load()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.ix.Close()
}

// Current returns the index in service.
func (l *Live) Current() *Index { return l.current.Load().ix }

// Search asks the index in service; see Index.Search.
func (l *Live) Search(ctx context.Context, text string, n int) (Answer, error) {
	for {
		g := l.current.Load()
		g.mu.RLock()
		if !g.closed {
			defer g.mu.RUnlock()
			return g.ix.Search(ctx, text, n)
		}
		g.mu.RUnlock()
		if l.current.Load() == g {
			// Closed and not replaced: Live itself was closed.
			return noAnswer(text), ErrClosed
		}
		// Replaced and closed meanwhile: ask its successor.
	}
}

// Section asks the index in service; see Index.Section.
func (l *Live) Section(id string) (Result, bool) { return l.Current().Section(id) }

// Topics asks the index in service; see Index.Topics.
func (l *Live) Topics() []Topic { return l.Current().Topics() }

// Size and Hash describe the knowledge in service.
func (l *Live) Size() int    { return l.Current().Size() }
func (l *Live) Hash() string { return l.Current().Hash() }
