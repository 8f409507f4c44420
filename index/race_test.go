//go:build race

package index_test

// The race detector slows code down 2 to 20 times: time bounds meant for a slow machine are
// stretched by as much, so that a race run checks for races, not for speed.
func init() { slowdown = 10 }
