package index

import "sync"

// A memo remembers values by key, up to limit of them: then it starts afresh, which costs
// a few recomputations and bounds its memory whatever people type.
type memo[V any] struct {
	limit int
	mu    sync.RWMutex
	m     map[string]V
}

// How many words (their terms) and text searches (an engine's hits by plan) are remembered.
const (
	wordCacheSize = 50_000
	hitCacheSize  = 20_000
)

func newMemo[V any](limit int) *memo[V] { return &memo[V]{limit: limit} }

func (c *memo[V]) get(key string) (V, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *memo[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.limit {
		c.m = make(map[string]V)
	}
	c.m[key] = v
}
