package index

// ForgetHits empties the kept text searches, so that a benchmark measures the search and not
// the memory of it.
func (ix *Index) ForgetHits() {
	ix.library.hits.reset()
	ix.article.hits.reset()
}

func (c *hitCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.hits)
}
