package redisstate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestLocalLimiterSpacesPostsPerChannel(t *testing.T) {
	t.Parallel()
	l := NewLocalLimiter(10, 1)
	ctx := context.Background()
	start := time.Now()
	for range 10 {
		if err := l.Wait(ctx, "C1"); err != nil {
			t.Fatal(err)
		}
	}
	// The first post goes at once, the nine others 100 ms apart.
	if took := time.Since(start); took < 800*time.Millisecond || took > 3*time.Second {
		t.Errorf("10 posts at 10/s with burst 1 took %s, want about 900ms", took)
	}
}

func TestLocalLimiterChannelsAreIndependent(t *testing.T) {
	t.Parallel()
	l := NewLocalLimiter(1, 1)
	ctx := context.Background()
	if err := l.Wait(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	// "busy" must now wait a second; the others must not wait for it.
	start := time.Now()
	for i := range 20 {
		if err := l.Wait(ctx, fmt.Sprint("C", i)); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("first posts to 20 other channels took %s, want no waiting", took)
	}
}

func TestLocalLimiterBurst(t *testing.T) {
	t.Parallel()
	l := NewLocalLimiter(1, 3)
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		if err := l.Wait(ctx, "C1"); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("a burst of 3 took %s, want no waiting", took)
	}
}

func TestLocalLimiterDeadline(t *testing.T) {
	t.Parallel()
	l := NewLocalLimiter(1, 1)
	if err := l.Wait(context.Background(), "C1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, "C1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the deadline = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 40*time.Millisecond {
		t.Errorf("Wait took %s to see that the post cannot fit before the deadline", took)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, "C2"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestLocalLimiterForgetsIdleChannelsFirst(t *testing.T) {
	t.Parallel()
	l := NewLocalLimiter(1, 1)
	l.max = 2
	ctx := context.Background()
	if err := l.Wait(ctx, "busy"); err != nil { // its bucket is now empty
		t.Fatal(err)
	}
	l.limiter("idle") // full bucket: the same as a new one
	if err := l.Wait(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	_, busy := l.channels["busy"]
	_, idle := l.channels["idle"]
	l.mu.Unlock()
	if !busy || idle {
		t.Errorf("after eviction: busy kept = %v (want true), idle kept = %v (want false)", busy, idle)
	}

	// Even with every channel busy, the bound holds.
	for i := range 10 {
		if err := l.Wait(ctx, fmt.Sprint("C", i)); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	n := len(l.channels)
	l.mu.Unlock()
	if n > l.max {
		t.Errorf("%d channels kept, want at most %d", n, l.max)
	}
}

func TestLocalLimiterDefaults(t *testing.T) {
	t.Parallel()
	var zero LocalLimiter
	if err := zero.Wait(context.Background(), "C1"); err != nil {
		t.Fatalf("Wait on a zero LocalLimiter: %v", err)
	}
	for _, l := range []*LocalLimiter{NewLocalLimiter(0, 0), NewLocalLimiter(-1, -1), &zero} {
		if l.limit != defaultRate || l.burst != defaultBurst || l.max != maxLocalChannels {
			t.Errorf("limiter = %v/s burst %d max %d, want %v/s burst %d max %d",
				l.limit, l.burst, l.max, defaultRate, defaultBurst, maxLocalChannels)
		}
	}
}
