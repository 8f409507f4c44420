package index

// ForgetHits empties the kept text searches, so that a benchmark measures the search and not
// the memory of it.
func (ix *Index) ForgetHits() {
	ix.library.hits.forget()
	ix.article.hits.forget()
}

// forget empties the memo.
func (c *memo[V]) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
