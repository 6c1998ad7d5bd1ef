package reconcile

import (
	"context"
	"time"
)

// Loop calls sync every interval to repair drift, and after a failure
// retries sooner with exponential backoff, until ctx is done. A value on
// kick requests an immediate sync.
func Loop(ctx context.Context, interval time.Duration, kick <-chan struct{}, sync func() error) {
	const minBackoff = 500 * time.Millisecond
	backoff := minBackoff
	wait := interval
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
			t.Stop()
		case <-t.C:
		}
		err := sync()
		// Kicks raised by this very sync are answered by it (or by the
		// backoff retry below), not by an immediate second run.
		select {
		case <-kick:
		default:
		}
		if err != nil {
			wait = backoff
			backoff = nextBackoff(backoff, interval)
			continue
		}
		backoff = minBackoff
		wait = interval
	}
}

// nextBackoff doubles b up to limit; capping before doubling keeps it from
// overflowing however long failures last.
func nextBackoff(b, limit time.Duration) time.Duration {
	return min(b*2, limit)
}
