package bot

import "sync"

// seenSet remembers the last keys it was shown, so that an event Slack delivers again (a
// retry, or a mention that also arrives as a message) is answered once. It holds at most
// capacity keys and forgets the oldest first: Slack retries within minutes, so a few
// thousand recent events are plenty.
type seenSet struct {
	mu   sync.Mutex
	keys map[string]bool
	ring []string
	next int
}

func newSeenSet(capacity int) *seenSet {
	return &seenSet{keys: make(map[string]bool, capacity), ring: make([]string, capacity)}
}

// first reports whether none of keys was seen before, and remembers them all. Empty keys are
// ignored.
func (s *seenSet) first(keys ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if k != "" && s.keys[k] {
			return false
		}
	}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if old := s.ring[s.next]; old != "" {
			delete(s.keys, old)
		}
		s.ring[s.next] = k
		s.keys[k] = true
		s.next = (s.next + 1) % len(s.ring)
	}
	return true
}
