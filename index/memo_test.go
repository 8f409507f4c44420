package index

import (
	"strconv"
	"testing"
)

// TestMemoBounded: a memo keeps what it is given up to its limit, then starts afresh.
func TestMemoBounded(t *testing.T) {
	m := newMemo[int](3)
	for i := range 3 {
		m.put(strconv.Itoa(i), i)
	}
	if v, ok := m.get("2"); !ok || v != 2 {
		t.Fatalf("get(2) = %d, %v", v, ok)
	}
	m.put("3", 3) // over the limit: only this one is kept
	if _, ok := m.get("0"); ok {
		t.Error("kept more than its limit")
	}
	if v, ok := m.get("3"); !ok || v != 3 {
		t.Errorf("get(3) = %d, %v", v, ok)
	}
	m.forget()
	if _, ok := m.get("3"); ok {
		t.Error("forget kept a value")
	}
}
